import { describeBackendConformance } from '@rustic-ts/backend-testkit'
import { OpenDalBackend } from '@rustic-ts/backend-opendal'
import { startRcloneWebdav } from './servers.js'

describeBackendConformance(
  'opendal webdav (rclone serve webdav)',
  async () => {
    const server = await startRcloneWebdav()
    return {
      backend: new OpenDalBackend('webdav', { endpoint: `http://127.0.0.1:${server.port}`, root: '/repo' }),
      cleanup: server.stop,
    }
  },
  { largeFileSize: 8 * 1024 * 1024 },
)
