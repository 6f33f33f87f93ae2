import { describeBackendConformance } from '@rustic-ts/backend-testkit'
import { OpenDalBackend } from '@rustic-ts/backend-opendal'
import { s3rverOptions, startS3rver } from './servers.js'

describeBackendConformance(
  'opendal s3 (s3rver)',
  async () => {
    const server = await startS3rver(['repo-bucket'])
    return {
      backend: new OpenDalBackend('s3', s3rverOptions(server.port, 'repo-bucket', '/some/repo')),
      cleanup: server.stop,
      secrets: ['S3RVER'],
    }
  },
  { largeFileSize: 8 * 1024 * 1024 },
)
