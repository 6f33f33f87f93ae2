import { cp, mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, tempDir, writeHtpasswd } from '../helpers.js'
import { restic, resticOk, treeFacts } from './resticHelpers.js'

let tmp: { path: string; remove: () => Promise<void> }
let root: string
let data: string
let htpasswdFile: string

/** The repository files below `dir` (relative paths), locks left out. */
async function repoFiles(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    const rel = join(e.parentPath, e.name).slice(dir.length + 1)
    if (e.isFile() && !rel.startsWith('locks/')) out.push(rel)
  }
  return out.sort()
}

/** A copy of the prepared server root for one test (the tests run concurrently). */
async function rootCopy(name: string): Promise<string> {
  const copy = join(tmp.path, name)
  await cp(root, copy, { recursive: true })
  return copy
}

const url = (base: string, creds: string, path: string): string => `rest:${base.replace('://', `://${creds}@`)}${path}`

beforeAll(async () => {
  tmp = await tempDir('rest-server-modes-')
  root = join(tmp.path, 'root')
  data = join(tmp.path, 'data')
  await mkdir(root)
  await mkdir(join(data, 'sub'), { recursive: true })
  for (let i = 0; i < 20; i++) await writeFile(join(data, 'sub', `f${i}.txt`), `file ${i}\n`.repeat(100 * i + 1))
  htpasswdFile = await writeHtpasswd(tmp.path, { alice: 'a-pw', bob: 'b-pw' })
  // a repository with two snapshots, made through a normal server
  const { rest, url: base } = await startServer({ path: root, htpasswdFile, privateRepos: true })
  try {
    const repo = url(base, 'alice:a-pw', 'alice/')
    await resticOk(repo, ['init'])
    await resticOk(repo, ['backup', data])
    await resticOk(repo, ['backup', data])
  } finally {
    await rest.close()
  }
})
afterAll(async () => {
  await tmp.remove()
})

// restic 0.14 retries a refused write or delete ten times with exponential backoff (about a minute)
// before it gives up, so the cases that expect such failures run concurrently.
describe.concurrent('restic against the rustic-ts REST server in its modes', () => {
  it('--append-only: backup works, forget fails with a permission error and deletes nothing', async () => {
    const root = await rootCopy('append-only')
    const { rest, url: base } = await startServer({ path: root, htpasswdFile, privateRepos: true, appendOnly: true })
    try {
      const repo = url(base, 'alice:a-pw', 'alice/')
      await resticOk(repo, ['backup', data])
      const before = await repoFiles(join(root, 'alice'))
      const r = await restic(repo, ['forget', '--keep-last', '1'])
      expect(r.code).not.toBe(0)
      expect(r.stderr).toMatch(/403|Forbidden/)
      expect(await repoFiles(join(root, 'alice'))).toEqual(before)
      expect(JSON.parse(await resticOk(repo, ['snapshots', '--json']))).toHaveLength(3)
    } finally {
      await rest.close()
    }
  }, 240_000)

  it('read-only: init and backup fail, snapshots and restore work', async () => {
    const root = await rootCopy('read-only')
    const data2 = join(tmp.path, 'data-ro')
    await cp(data, data2, { recursive: true })
    const { rest, url: base } = await startServer({ path: root, htpasswdFile, readOnly: true })
    try {
      const repo = url(base, 'alice:a-pw', 'alice/')
      const before = await repoFiles(root)
      const init = await restic(url(base, 'bob:b-pw', 'bob/'), ['init'])
      expect(init.code).not.toBe(0)
      expect(init.stderr).toMatch(/403|Forbidden/)
      const snaps = JSON.parse(await resticOk(repo, ['snapshots', '--json'])) as Array<{ id: string }>
      expect(snaps.length).toBeGreaterThanOrEqual(2)
      const target = join(tmp.path, 'restore-ro')
      await resticOk(repo, ['restore', snaps[0]!.id, '--target', target])
      expect(await treeFacts(join(target, data))).toEqual(await treeFacts(data))
      await writeFile(join(data2, 'new.txt'), 'a new file that needs a new pack\n')
      const backup = await restic(repo, ['backup', data2])
      expect(backup.code).not.toBe(0)
      expect(await repoFiles(root)).toEqual(before)
    } finally {
      await rest.close()
    }
  }, 240_000)

  it('wrong credentials: 401 and nothing written; --private-repos: alice cannot reach bob', async () => {
    const root = await rootCopy('private')
    await mkdir(join(root, 'bob'))
    const { rest, url: base } = await startServer({ path: root, htpasswdFile, privateRepos: true })
    try {
      const before = await repoFiles(root)
      const wrong = await restic(url(base, 'alice:wrong', 'alice2/'), ['init'])
      expect(wrong.code).not.toBe(0)
      expect(wrong.stderr).toMatch(/401|Unauthorized/)
      const other = await restic(url(base, 'alice:a-pw', 'bob/'), ['init'])
      expect(other.code).not.toBe(0)
      expect(other.stderr).toMatch(/401|Unauthorized/)
      expect(await repoFiles(root)).toEqual(before)
    } finally {
      await rest.close()
    }
  }, 240_000)
})
