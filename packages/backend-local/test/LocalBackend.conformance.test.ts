import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeBackendConformance } from '@rustic-ts/backend-testkit'
import { LocalBackend } from '@rustic-ts/backend-local'

describeBackendConformance('LocalBackend', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-local-'))
  return { backend: new LocalBackend(join(dir, 'repo')), cleanup: () => rm(dir, { recursive: true, force: true }) }
})
