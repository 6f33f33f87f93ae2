import { mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { OpenDalBackend } from '@rustic-ts/backend-opendal'
import { RestBackend } from '@rustic-ts/backend-rest'
import { describeBackendConformance } from '@rustic-ts/backend-testkit'
import { startServer, tempDir, writeHtpasswd } from './helpers.js'

/**
 * The server keeps rest-server's rules, which two checks of the suite do not expect: an existing file
 * (the config too) is never overwritten (403), and removing a missing file succeeds (so that a retried
 * DELETE does not fail). Both are tested on their own in createRestServer.test.ts.
 */
const REST_SERVER_RULES = ['overwrite', 'remove-missing']

describeBackendConformance(
  'RestBackend on the rustic-ts REST server over a local directory',
  async () => {
    const dir = await tempDir()
    const root = join(dir.path, 'root')
    await mkdir(root)
    const htpasswdFile = await writeHtpasswd(dir.path, { alice: 'pa:ss w0rd' })
    const { rest, url } = await startServer({ path: root, htpasswdFile, privateRepos: true })
    const u = new URL(url)
    return {
      backend: new RestBackend(`rest:http://alice:${encodeURIComponent('pa:ss w0rd')}@${u.host}/alice/laptop/`),
      secrets: ['pa:ss w0rd', encodeURIComponent('pa:ss w0rd')],
      cleanup: async () => {
        await rest.close()
        await dir.remove()
      },
    }
  },
  { skip: REST_SERVER_RULES },
)

describeBackendConformance(
  'RestBackend on the rustic-ts REST server over OpenDAL memory',
  async () => {
    const { rest, url } = await startServer({ backend: (path) => new OpenDalBackend('memory', { root: `/${path.join('/')}` }), noAuth: true })
    return {
      backend: new RestBackend(`${url}repo/`),
      cleanup: () => rest.close(),
    }
  },
  { skip: REST_SERVER_RULES, largeFileSize: 4 * 1024 * 1024, concurrency: 16 },
)
