import { appendFile, cp, mkdir, truncate } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { OpenDalBackend } from '@rustic-ts/backend-opendal'
import type { RestServerOptions } from '@rustic-ts/rest-server'
import { startServer, tempDir, writeHtpasswd } from '../helpers.js'
import { mkdata, resticOk, treeFacts } from './resticHelpers.js'

let tmp: { path: string; remove: () => Promise<void> }
let data: string

beforeAll(async () => {
  tmp = await tempDir('rest-server-restic-')
  data = join(tmp.path, 'data')
  await mkdata(data, '0.02')
  // keep CI fast: the data set's 64 MiB random file and its duplicate, cut to 3 MiB (still duplicates)
  for (const f of ['big/random0.img', 'media/copy-of-random0.img']) await truncate(join(data, f), 3 << 20)
})
afterAll(async () => {
  await tmp.remove()
})

/** The whole life of a repository with restic against the server: init ... check --read-data. */
async function resticLifecycle(name: string, options: (dir: string) => Promise<RestServerOptions>): Promise<void> {
  const dir = join(tmp.path, name)
  const source = join(tmp.path, `${name}-source`)
  await cp(data, source, { recursive: true })
  // one htpasswd file per test: the two run at once, and a server reading the other's file while it is
  // rewritten would see no user
  const auth = join(tmp.path, `${name}-auth`)
  await mkdir(auth)
  const htpasswdFile = await writeHtpasswd(auth, { alice: 'secret pw' })
  const { rest, url } = await startServer({ ...(await options(dir)), htpasswdFile })
  const repo = `rest:${url.replace('://', `://alice:${encodeURIComponent('secret pw')}@`)}alice/`
  try {
    await resticOk(repo, ['init'])
    const first = JSON.parse((await resticOk(repo, ['backup', '--json', '--host', 'h', source])).trim().split('\n').pop()!) as { snapshot_id: string }
    const target = join(dir + '-restore')
    await resticOk(repo, ['restore', first.snapshot_id, '--target', target])
    expect(await treeFacts(join(target, source))).toEqual(await treeFacts(source))
    // a second backup of a changed tree, then forget the first and prune what only it used
    await appendFile(join(source, 'big', 'app.log'), 'one more line\n')
    await resticOk(repo, ['backup', '--host', 'h', source])
    const before = JSON.parse(await resticOk(repo, ['snapshots', '--json'])) as unknown[]
    expect(before).toHaveLength(2)
    await resticOk(repo, ['forget', '--keep-last', '1', '--prune'])
    expect(JSON.parse(await resticOk(repo, ['snapshots', '--json']))).toHaveLength(1)
    await resticOk(repo, ['check', '--read-data'])
  } finally {
    await rest.close()
  }
}

describe.concurrent('restic against the rustic-ts REST server', () => {
  it('on a local directory: init, backup, restore identical, forget + prune, check --read-data', async () => {
    await resticLifecycle('local', async (dir) => ({ path: dir }))
  }, 300_000)

  it('on OpenDAL fs: the same', async () => {
    await resticLifecycle('opendal', async (dir) => ({
      backend: (path) => new OpenDalBackend('fs', { root: join(dir, ...path) }),
    }))
  }, 300_000)
})
