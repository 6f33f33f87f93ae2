import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeBackendConformance } from '@rustic-ts/backend-testkit'
import { RcloneBackend } from '@rustic-ts/backend-rclone'

describeBackendConformance('RcloneBackend (serve restic --stdio, HTTP/2) on a local dir', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rustic-rclone-conf-'))
  return {
    backend: new RcloneBackend(join(dir, 'repo'), { rcloneArgs: ['--config', '/dev/null'] }),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
})

describeBackendConformance(
  'RcloneBackend (serve restic --addr, HTTP/1.1) on a :local: remote',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rustic-rclone-conf-addr-'))
    return {
      backend: new RcloneBackend(`:local:${join(dir, 'repo')}`, { useStdio: false, rcloneArgs: ['--config', '/dev/null'] }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    }
  },
  { largeFileSize: 4 * 1024 * 1024, concurrency: 16 },
)
