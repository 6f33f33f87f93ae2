import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeBackendConformance } from '@rustic-ts/backend-testkit'
import { OpenDalBackend } from '@rustic-ts/backend-opendal'

describeBackendConformance('opendal fs', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-opendal-fs-'))
  const root = join(dir, 'repo')
  return {
    backend: new OpenDalBackend('fs', { root }),
    cleanup: async () => {
      // restic layout on disk, and no temp file left behind by the atomic writes.
      const top = (await readdir(root)).sort()
      if (top.join(',') !== '.opendal-tmp,config,data,index,keys,locks,snapshots') throw new Error(`unexpected layout: ${top}`)
      if ((await readdir(join(root, 'data'))).length !== 256) throw new Error('data/xx dirs missing')
      if ((await readdir(join(root, '.opendal-tmp'))).length !== 0) throw new Error('temp files left behind')
      await rm(dir, { recursive: true, force: true })
    },
  }
})

describeBackendConformance('opendal memory', async () => ({ backend: new OpenDalBackend('memory', {}) }))
