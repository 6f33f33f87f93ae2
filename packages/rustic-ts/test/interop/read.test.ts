import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resticInit, rusticInit } from '../helpers/cheapKey.js'
import { fileHashes, makeDataset } from '../helpers/dataset.js'
import { PASSWORD, restic, rustic, rusticOk, tempDir } from '../helpers/restic.js'

interface LsLine {
  struct_type: string
  path?: string
  [k: string]: unknown
}

const parseLines = (b: Buffer): LsLine[] =>
  b.toString('utf8').split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as LsLine)

let tmp: Awaited<ReturnType<typeof tempDir>>
let src: string

beforeAll(async () => {
  tmp = await tempDir()
  src = join(tmp.path, 'src')
  await makeDataset(src)
})
afterAll(async () => tmp?.remove())

describe.each([1, 2])('a repository made by restic, version %i', (version) => {
  let repo: string
  beforeAll(async () => {
    repo = join(tmp.path, `restic-v${version}`)
    await resticInit(repo, ['--repository-version', String(version)])
    await restic(repo, ['backup', '--host', 'host-a', '--tag', 'daily,t2', src])
    await restic(repo, ['backup', '--host', 'host-b', join(src, 'a')])
  })

  it('snapshots --json lists the same ids, times, hosts, paths and tags as restic', async () => {
    const theirs = JSON.parse((await restic(repo, ['snapshots', '--json'])).toString()) as Record<string, unknown>[]
    const ours = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--json'])).toString()) as Record<string, unknown>[]
    const pick = (s: Record<string, unknown>) => [s['id'], s['short_id'], s['time'], s['hostname'], s['paths'], s['tags'], s['tree']]
    expect(ours.map(pick)).toEqual(theirs.map(pick))
    expect(ours).toHaveLength(2)
  })

  it('ls --json prints the same lines as restic ls --json', async () => {
    const theirs = parseLines(await restic(repo, ['ls', '--json', 'latest', '--host', 'host-a']))
    const snapId = (theirs[0]!['id'] as string).slice(0, 12)
    const ours = parseLines(await rusticOk(['-r', repo, '--no-cache', 'ls', '--json', snapId]))
    expect(ours.length).toBeGreaterThan(10)
    expect(ours.slice(1)).toEqual(theirs.slice(1))
    expect(ours[0]!['id']).toEqual(theirs[0]!['id'])
    expect(ours[0]!['struct_type']).toBe('snapshot')
  })

  it('dump gives every file byte-identical to the source', async () => {
    const hashes = await fileHashes(src)
    const snap = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--json', '--host', 'host-a'])).toString())[0] as { id: string }
    for (const [rel, hash] of hashes) {
      const out = await rusticOk(['-r', repo, '--no-cache', 'dump', `${snap.id}:${join(src, rel)}`])
      expect(createHash('sha256').update(out).digest('hex'), rel).toBe(hash)
    }
    expect(hashes.size).toBeGreaterThanOrEqual(7)
  })

  it('cat config and cat snapshot print the decrypted JSON', async () => {
    const config = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'cat', 'config'])).toString()) as { version: number }
    expect(config.version).toBe(version)
    const theirs = JSON.parse((await restic(repo, ['cat', 'config'])).toString())
    expect(config).toEqual(theirs)
    const snaps = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--json'])).toString()) as Array<{ id: string; tree: string }>
    const snapJson = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'cat', 'snapshot', snaps[0]!.id.slice(0, 8)])).toString())
    expect(snapJson.tree).toBe(snaps[0]!.tree)
  })

  it('latest, latest~1 and an ambiguous or unknown prefix resolve as documented', async () => {
    const snaps = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--json'])).toString()) as Array<{ id: string }>
    const latest = parseLines(await rusticOk(['-r', repo, '--no-cache', 'ls', '--json', 'latest']))[0]!
    const before = parseLines(await rusticOk(['-r', repo, '--no-cache', 'ls', '--json', 'latest~1']))[0]!
    expect(latest['id']).toBe(snaps[1]!.id)
    expect(before['id']).toBe(snaps[0]!.id)
    const none = await rustic(['-r', repo, '--no-cache', 'ls', 'latest~5'])
    expect(none.code).toBe(1)
    expect(none.stderr).toMatch(/latest~5/)
    const unknown = await rustic(['-r', repo, '--no-cache', 'ls', 'ffffffffffff'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/no snapshot with id ffffffffffff/)
  })

  it('key list shows restic’s key', async () => {
    // a key as restic makes it (the repository above has a cheap one)
    const repo = join(tmp.path, `restic-key-v${version}`)
    await restic(repo, ['init', '--repository-version', String(version)])
    const theirs = JSON.parse((await restic(repo, ['key', 'list', '--json'])).toString()) as Array<{ id: string }>
    const ours = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'key', 'list', '--json'])).toString()) as Array<{ id: string; current: boolean }>
    expect(ours.map((k) => k.id)).toEqual(theirs.map((k) => k.id))
    expect(ours[0]!.current).toBe(true)
  })
})

describe('a repository made by rustic-ts init', () => {
  it('is used by restic (snapshots, backup, check) and rustic-ts reads restic’s snapshot', async () => {
    for (const version of [1, 2]) {
      const repo = join(tmp.path, `rustic-init-v${version}`)
      const init = await rusticOk(['-r', repo, 'init', '--repository-version', String(version)])
      expect(init.toString()).toMatch(/created repository/)
      expect((await restic(repo, ['snapshots', '--json'])).toString().trim()).toBe('[]')
      await restic(repo, ['backup', src])
      await restic(repo, ['check', '--read-data'])
      const snaps = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--json'])).toString()) as Array<{ paths: string[] }>
      expect(snaps).toHaveLength(1)
      expect(snaps[0]!.paths).toEqual([src])
      const out = await rusticOk(['-r', repo, '--no-cache', 'dump', `latest:${join(src, 'a', 'hello.txt')}`])
      expect(out.toString()).toBe('hello world\n')
      const cfg = JSON.parse((await restic(repo, ['cat', 'config'])).toString()) as { version: number; chunker_polynomial: string }
      expect(cfg.version).toBe(version)
      expect(cfg.chunker_polynomial).toMatch(/^[0-9a-f]{14}$/)
    }
  })

  it('refuses to init over an existing repository', async () => {
    const repo = join(tmp.path, 'rustic-init-twice')
    await rusticOk(['-r', repo, 'init'])
    const again = await rustic(['-r', repo, 'init'])
    expect(again.code).toBe(1)
    expect(again.stderr).toMatch(/already exists/)
  })
})

describe('errors', () => {
  it('a wrong password fails with a one-line "incorrect password" error', async () => {
    const repo = join(tmp.path, 'pw')
    await resticInit(repo, ['--repository-version', '2'])
    const r = await rustic(['-r', repo, '--no-cache', 'snapshots'], { RUSTIC_PASSWORD: 'wrong' })
    expect(r.code).toBe(1)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/incorrect password/)
    expect(r.stderr).not.toContain('wrong')
    expect(r.stderr).not.toContain(PASSWORD)
  })

  it('a missing repository says "no repository at <location>"', async () => {
    const repo = join(tmp.path, 'does-not-exist')
    const r = await rustic(['-r', repo, 'snapshots'])
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(`no repository at local:${repo}`)
  })

  it('no password is a clear error', async () => {
    const repo = join(tmp.path, 'nopw')
    await resticInit(repo, ['--repository-version', '2'])
    const r = await rustic(['-r', repo, 'snapshots'], { RUSTIC_PASSWORD: undefined })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/no password given/)
  })

  it('key add makes a second password that rustic-ts and restic both accept', async () => {
    const repo = join(tmp.path, 'keyadd')
    await rusticInit(repo)
    const { writeFile } = await import('node:fs/promises')
    const file = join(tmp.path, 'new-pw.txt')
    await writeFile(file, 'second password\n')
    expect((await rusticOk(['-r', repo, 'key', 'add', '--new-password-file', file])).toString()).toMatch(/saved new key as [0-9a-f]{8}/)
    const keys = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'key', 'list', '--json'], { RUSTIC_PASSWORD: 'second password' })).toString()) as Array<{ current: boolean }>
    expect(keys).toHaveLength(2)
    expect(keys.filter((k) => k.current)).toHaveLength(1)
    await restic(repo, ['snapshots'], { RESTIC_PASSWORD: 'second password' })
  })

  it('a password file and a password command work', async () => {
    const repo = join(tmp.path, 'pwfile')
    await resticInit(repo, ['--repository-version', '2'])
    const { writeFile } = await import('node:fs/promises')
    const file = join(tmp.path, 'pw.txt')
    await writeFile(file, `${PASSWORD}\n`)
    expect((await rustic(['-r', repo, '--no-cache', '--password-file', file, 'snapshots', '--json'], { RUSTIC_PASSWORD: undefined })).code).toBe(0)
    const cmd = `echo ${PASSWORD}`
    const r = await rustic(['-r', repo, '--no-cache', '--password-command', cmd, 'snapshots', '--json'], { RUSTIC_PASSWORD: undefined })
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
  })
})
