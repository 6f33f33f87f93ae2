import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeBackendConformance } from '@rustic-ts/backend-testkit'
import { MemoryBackend } from '@rustic-ts/core'
import { CachedBackend } from '@rustic-ts/cache'

describeBackendConformance('CachedBackend over MemoryBackend', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-cache-conf-'))
  const warnings: string[] = []
  return {
    backend: new CachedBackend(new MemoryBackend('cached'), { cacheDir: join(dir, 'cache'), onWarning: (m) => warnings.push(m) }),
    cleanup: async () => {
      await rm(dir, { recursive: true, force: true })
      if (warnings.length > 0) throw new Error(`unexpected cache warnings: ${warnings.join('; ')}`)
    },
  }
})

describeBackendConformance('CachedBackend with an unusable cache directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-cache-conf-bad-'))
  await writeFile(join(dir, 'file'), 'not a directory')
  return {
    backend: new CachedBackend(new MemoryBackend('uncached'), { cacheDir: join(dir, 'file', 'cache') }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
})
