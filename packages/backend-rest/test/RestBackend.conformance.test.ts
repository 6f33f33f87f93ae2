import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describeBackendConformance } from '@rustic-ts/backend-testkit'
import { RestBackend } from '@rustic-ts/backend-rest'
import { startRcloneRestServer } from './rcloneServer.js'

describeBackendConformance('RestBackend on rclone serve restic', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rustic-rest-conf-'))
  const server = await startRcloneRestServer(join(dir, 'repo'))
  return {
    backend: new RestBackend(server.url),
    cleanup: async () => {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
})

describeBackendConformance(
  'RestBackend on rclone serve restic with basic auth',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rustic-rest-conf-auth-'))
    const server = await startRcloneRestServer(join(dir, 'repo'), ['--user', 'alice', '--pass', 's3cr3t-p@ss'])
    const url = new URL(server.url)
    url.username = 'alice'
    url.password = encodeURIComponent('s3cr3t-p@ss')
    return {
      backend: new RestBackend(`rest:${url.href}`.replace(/\/$/, ''), { connections: 2 }),
      secrets: ['s3cr3t-p@ss', 's3cr3t-p%40ss'],
      cleanup: async () => {
        await server.stop()
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
  { largeFileSize: 4 * 1024 * 1024, concurrency: 16 },
)
