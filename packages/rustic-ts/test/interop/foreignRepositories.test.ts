/**
 * Repositories in forms other tools wrote, made here from a repository `restic init`/`backup` wrote:
 * restic's legacy index format (a bare JSON array of packs, before restic 0.7), the s3legacy layout
 * (`key/`, `snapshot/`, flat `data/`), a key file as rustic writes it (no `created`, no user or host) and
 * a snapshot time as rustic writes it (nine fraction digits). rustic-ts lists, restores and backs up
 * like restic, and `restic check --read-data` passes after its backup.
 */
import { cp, mkdir, readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { hashId, Repository } from '@rustic-ts/core'
import { createKeyFile, goJson, parseIndex } from '@rustic-ts/core/internal'
import { makeDataset } from '../helpers/dataset.js'
import { resticInit } from '../helpers/cheapKey.js'
import { PASSWORD, restic, rusticOk, tempDir } from '../helpers/restic.js'
import { treeFacts } from '../helpers/treeCompare.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let src: string
let base: string

const lines = (b: Buffer): string[] => b.toString('utf8').split('\n').filter((l) => l !== '')

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-foreign-')
  src = join(tmp.path, 'src')
  await makeDataset(src, { bigFileMiB: 1 })
  base = join(tmp.path, 'base')
  await resticInit(base, ['--repository-version', '1'])
  await restic(base, ['backup', src])
}, 120_000)
afterAll(async () => tmp?.remove())

/** A copy of the restic repository. */
async function copyOf(name: string): Promise<string> {
  const dir = join(tmp.path, name)
  await cp(base, dir, { recursive: true })
  return dir
}

/** ls, restore and backup through the CLI agree with restic on `repo`, and restic check --read-data passes after the backup. */
async function readsAndWritesLikeRestic(repo: string): Promise<void> {
  const ours = lines(await rusticOk(['-r', repo, '--no-cache', 'ls', '--json', 'latest']))
  const theirs = lines(await restic(repo, ['ls', '--json', 'latest']))
  expect(ours.length).toBeGreaterThan(5)
  expect(ours.slice(1)).toEqual(theirs.slice(1))
  const ourTarget = join(tmp.path, `${repo.split('/').pop()}-ours`)
  const theirTarget = join(tmp.path, `${repo.split('/').pop()}-restic`)
  await rusticOk(['-r', repo, '--no-cache', 'restore', 'latest', '--target', ourTarget])
  await restic(repo, ['restore', 'latest', '--target', theirTarget])
  expect(await treeFacts(ourTarget)).toEqual(await treeFacts(theirTarget))
  await rusticOk(['-r', repo, '--no-cache', 'backup', src])
  await restic(repo, ['check', '--read-data'])
  expect(JSON.parse((await restic(repo, ['snapshots', '--json'])).toString())).toHaveLength(2)
}

describe('repositories in older or other forms', () => {
  it("restic's legacy index format: snapshots, ls, restore and backup work; restic check --read-data passes after", async () => {
    const repo = await copyOf('legacy-index')
    const backend = new LocalBackend(repo)
    const opened = await Repository.open({}, { repository: backend }, { password: PASSWORD })
    for (const id of await backend.list('index')) {
      const index = parseIndex(await opened.dbe.readEncryptedFull('index', id), `index ${id}`)
      const legacy = goJson(index.packs.map((p) => ({ id: p.id, blobs: p.blobs.map((b) => ({ id: b.id, type: b.type, offset: b.offset, length: b.length })) })))
      const sealed = opened.key.encrypt(new TextEncoder().encode(legacy))
      await backend.writeBytes('index', hashId(sealed), false, sealed)
      await backend.remove('index', id, false)
      expect(parseIndex(opened.key.decrypt(sealed, 'index'), 'index').legacyFormat).toBe(true)
    }
    // restic reads it too (its check calls it "old format")
    expect((await restic(repo, ['check'])).toString()).toMatch(/no errors were found/)
    const snaps = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--json'])).toString()) as unknown[]
    expect(snaps).toHaveLength(1)
    await readsAndWritesLikeRestic(repo)
  })

  it('the s3legacy layout is detected by itself: snapshots, ls, restore and backup work; restic check --read-data passes after', async () => {
    const repo = await copyOf('s3legacy')
    for (const [from, to] of [['keys', 'key'], ['snapshots', 'snapshot'], ['locks', 'lock']]) await rename(join(repo, from!), join(repo, to!))
    await mkdir(join(repo, 'data-flat'))
    for (const sub of await readdir(join(repo, 'data'))) {
      for (const f of await readdir(join(repo, 'data', sub))) await rename(join(repo, 'data', sub, f), join(repo, 'data-flat', f))
    }
    await rm(join(repo, 'data'), { recursive: true })
    await rename(join(repo, 'data-flat'), join(repo, 'data'))
    const packs = (await readdir(join(repo, 'data'))).length
    expect(packs).toBeGreaterThan(1)
    expect(JSON.parse((await restic(repo, ['snapshots', '--json'])).toString())).toHaveLength(1)
    expect(JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--json'])).toString())).toHaveLength(1)
    await readsAndWritesLikeRestic(repo)
    // our backup wrote into the same layout: new packs flat in data/, no default-layout folders
    expect((await readdir(join(repo, 'data'))).length).toBeGreaterThan(packs)
    expect((await readdir(repo)).sort()).toEqual(['config', 'data', 'index', 'key', 'lock', 'snapshot'])
  })

  it('a key file as rustic writes it opens with restic and with rustic-ts; a rustic snapshot time prints as restic prints it', async () => {
    const repo = await copyOf('rustic-key')
    const backend = new LocalBackend(repo)
    const opened = await Repository.open({}, { repository: backend }, { password: PASSWORD })
    const { keyFile } = await createKeyFile(opened.key, 'rustic-password', { kdf: { N: 1024, r: 8, p: 1 } })
    const bytes = new TextEncoder().encode(JSON.stringify({ kdf: 'scrypt', N: keyFile.N, r: keyFile.r, p: keyFile.p, data: keyFile.data, salt: keyFile.salt }))
    await backend.writeBytes('key', hashId(bytes), false, bytes)
    const [snap] = await opened.getSnapshots()
    await opened.saveSnapshot({ ...snap!, time: '2026-03-01T10:00:00.523952200+02:00', parent: snap!.id })
    const env = { RESTIC_PASSWORD: 'rustic-password', RUSTIC_PASSWORD: 'rustic-password' }
    const theirs = JSON.parse((await restic(repo, ['snapshots', '--json'], env)).toString()) as Array<{ id: string; time: string }>
    const ours = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--json'], env)).toString()) as Array<{ id: string; time: string }>
    expect(ours.map((s) => [s.id, s.time])).toEqual(theirs.map((s) => [s.id, s.time]))
    expect(ours.map((s) => s.time)).toContain('2026-03-01T10:00:00.5239522+02:00')
  })
})
