import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { CONFIG_ID, Repository } from '@rustic-ts/core'
import { serializeConfig } from '@rustic-ts/core/internal'
import { PASSWORD, restic, rustic, rusticOk, tempDir } from '../helpers/restic.js'
import { CHEAP_KDF } from '../helpers/resticSnapshots.js'

interface Snap {
  id: string
  short_id: string
  time: string
  tree: string
  hostname: string
  tags?: string[]
  paths: string[]
  original?: string
  label?: string
}

let tmp: Awaited<ReturnType<typeof tempDir>>
let data: string

/** A repository (cheap key, `append_only` as asked) with four snapshots restic wrote. */
async function repoWithSnapshots(name: string, appendOnly = false): Promise<string> {
  const path = join(tmp.path, name)
  const backend = new LocalBackend(path)
  const repo = await Repository.init({}, { repository: backend }, { password: PASSWORD }, { kdf: CHEAP_KDF })
  if (appendOnly) await backend.writeBytes('config', CONFIG_ID, false, repo.key.encrypt(serializeConfig({ ...repo.config, appendOnly: true })))
  await repo.close()
  const backups: Array<[string, string, string]> = [
    ['h1', '2024-01-01 10:00:00', 'a'],
    ['h1', '2024-01-02 10:00:00', 'a,b'],
    ['h2', '2024-01-03 10:00:00', 'b'],
    ['h2', '2024-01-04 10:00:00', 'c'],
  ]
  for (const [host, time, tags] of backups) await restic(path, ['backup', '-q', '--host', host, '--time', time, '--tag', tags, data], { TZ: 'UTC' })
  return path
}

const resticSnaps = async (repo: string): Promise<Snap[]> => JSON.parse((await restic(repo, ['snapshots', '--json'])).toString()) as Snap[]
const byTime = (l: Snap[]): Snap[] => [...l].sort((a, b) => Date.parse(a.time) - Date.parse(b.time))

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-snapcli-')
  data = join(tmp.path, 'data')
  await mkdir(data)
  await writeFile(join(data, 'f.txt'), 'hello\n')
}, 120_000)
afterAll(async () => tmp?.remove())

describe('snapshots, tag and forget on the command line', () => {
  it('snapshots: restic JSON shapes, rustic-style grouped table with paths one per line, --latest', async () => {
    const repo = await repoWithSnapshots('list')
    const theirs = await resticSnaps(repo)
    const flat = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--json'])).toString()) as Snap[]
    expect(flat.map((s) => s.id)).toEqual(byTime(theirs).map((s) => s.id))
    expect(flat[0]!.short_id).toBe(flat[0]!.id.slice(0, 8))
    const grouped = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--json', '--group-by', 'host', '--latest', '1'])).toString()) as Array<{
      group_key: { hostname: string; paths: null; tags: null }
      snapshots: Snap[]
    }>
    expect(grouped.map((g) => [g.group_key, g.snapshots.map((s) => s.time)])).toEqual([
      [{ hostname: 'h1', paths: null, tags: null }, ['2024-01-02T10:00:00Z']],
      [{ hostname: 'h2', paths: null, tags: null }, ['2024-01-04T10:00:00Z']],
    ])
    const text = (await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--tag', 'b'])).toString()
    expect(text).toContain(`snapshots for (host [h1], label [], paths [${data}])`)
    const lines = text.split('\n')
    const row = lines.findIndex((l) => l.startsWith(flat[1]!.short_id))
    expect(lines[row]).toMatch(/ h1 +a +/)
    expect(lines[row + 1]!.trim()).toBe('b') // tags one per line
    expect(text).toContain('total: 2 snapshot(s)')
  })

  it('snapshots: follow-up snapshots with the same tree share a row marked (+N), as rustic shows them; --all lists each', async () => {
    const repo = await repoWithSnapshots('collapse')
    // three snapshots of host h3 with one tree (copies of restic's newest), then one with another tree
    const other = join(tmp.path, 'other')
    await mkdir(other)
    await writeFile(join(other, 'g.txt'), 'other\n')
    await restic(repo, ['backup', '-q', '--host', 'h0', other])
    const newest = byTime(await resticSnaps(repo)).find((s) => s.hostname === 'h2')!
    const older = (await resticSnaps(repo)).find((s) => s.hostname === 'h0')!
    expect(older.tree).not.toBe(newest.tree)
    const r = await Repository.open({}, { repository: new LocalBackend(repo) }, { password: PASSWORD })
    const ids: string[] = []
    try {
      for (const [i, tree] of [newest.tree, newest.tree, newest.tree, older.tree].entries()) {
        const { id: _id, ...snap } = await r.getSnapshot(newest.id as never)
        ids.push(await r.saveSnapshot({ ...snap, tree: tree as never, hostname: 'h3', time: `2024-02-0${i + 1}T10:00:00Z` }))
      }
    } finally {
      await r.close()
    }
    const text = (await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--host', 'h3'])).toString()
    expect(text).toContain(`${ids[0]!.slice(0, 8)} (+2)`)
    expect(text).not.toContain(ids[1]!.slice(0, 8))
    expect(text).not.toContain(ids[2]!.slice(0, 8))
    expect(text).toMatch(new RegExp(`${ids[3]!.slice(0, 8)} +2024`))
    expect(text).toContain('4 snapshot(s)')
    const all = (await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--host', 'h3', '--all'])).toString()
    expect(all).not.toContain('(+')
    for (const id of ids) expect(all).toContain(id.slice(0, 8))
  })

  it('tag: restic sees the changed tags, the same tree and original; restic snapshots and check accept the repository', async () => {
    const repo = await repoWithSnapshots('tag')
    const before = byTime(await resticSnaps(repo))
    await rusticOk(['-r', repo, '--no-cache', 'tag', '--host', 'h1', '--add', 'new,a'])
    await rusticOk(['-r', repo, '--no-cache', 'tag', before[3]!.id.slice(0, 8), '--set', 'x', '--set-label', 'L', '--set-delete', 'never'])
    const none = await rusticOk(['-r', repo, '--no-cache', 'tag', 'latest', '--set', 'x'])
    expect(none.toString()).toContain('no snapshots were modified')
    const after = byTime(await resticSnaps(repo))
    expect(after.map((s) => s.tags)).toEqual([['a', 'new'], ['a', 'b', 'new'], ['b'], ['x']])
    expect(after.map((s) => s.tree)).toEqual(before.map((s) => s.tree))
    expect(after.map((s) => s.original)).toEqual([before[0]!.id, before[1]!.id, undefined, before[3]!.id])
    expect(after[2]!.id).toBe(before[2]!.id)
    expect((await readdir(join(repo, 'snapshots'))).sort()).toEqual(after.map((s) => s.id).sort())
    // a second change keeps the first id as original
    await rusticOk(['-r', repo, '--no-cache', 'tag', after[0]!.id, '--remove', 'new'])
    const again = byTime(await resticSnaps(repo))
    expect([again[0]!.tags, again[0]!.original]).toEqual([['a'], before[0]!.id])
    await restic(repo, ['check'])
    const ours = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--json', '--label', 'L'])).toString()) as Array<Snap & { delete: unknown }>
    expect(ours.map((s) => [s.label, s.delete])).toEqual([['L', 'Never']])
  })

  it('forget: removes what the policy says, keeps delete-protected snapshots; restic check passes', async () => {
    const repo = await repoWithSnapshots('forget')
    const before = byTime(await resticSnaps(repo))
    await rusticOk(['-r', repo, '--no-cache', 'tag', before[0]!.id, '--set-delete', 'never'])
    const dry = (await rusticOk(['-r', repo, '--no-cache', 'forget', '-n', '--keep-last', '1', '--group-by', 'host'])).toString()
    expect(dry).toMatch(/would remove 1 snapshot\(s\)/)
    expect(dry).toContain('delete: never')
    // -q as restic's: only what a dry run would remove, no table
    const quietDry = (await rusticOk(['-r', repo, '--no-cache', '-q', 'forget', '-n', '--keep-last', '1', '--group-by', 'host'])).toString()
    expect(quietDry).toMatch(/^would remove 1 snapshot\(s\): [0-9a-f]{8}\n$/)
    expect(await resticSnaps(repo)).toHaveLength(4)
    const out = JSON.parse((await rusticOk(['-r', repo, '--no-cache', '--json', 'forget', '--keep-last', '1', '--group-by', 'host'])).toString()) as Array<{
      host: string
      remove: Snap[] | null
      reasons: Array<{ matches: string[] }>
    }>
    expect(out.map((g) => [g.host, g.remove?.map((s) => s.time) ?? null, g.reasons.map((r) => r.matches)])).toEqual([
      ['h1', null, [['last snapshot'], ['delete: never']]],
      ['h2', ['2024-01-03T10:00:00Z'], [['last snapshot']]],
    ])
    const left = byTime(await resticSnaps(repo))
    expect(left.map((s) => s.time)).toEqual(['2024-01-01T10:00:00Z', '2024-01-02T10:00:00Z', '2024-01-04T10:00:00Z'])
    await restic(repo, ['check'])
    const noPolicy = await rustic(['-r', repo, '--no-cache', 'forget'])
    expect(noPolicy.code).toBe(1)
    expect(noPolicy.stderr).toMatch(/no keep option given/)
  })

  it('an append-only repository: forget and tag fail with the append-only error and remove nothing', async () => {
    const repo = await repoWithSnapshots('append-only', true)
    const files = (await readdir(join(repo, 'snapshots'))).sort()
    for (const args of [['forget', '--keep-last', '1'], ['tag', '--add', 'x'], ['forget', 'latest']]) {
      const r = await rustic(['-r', repo, '--no-cache', ...args])
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr).toMatch(/^rustic-ts: error: cannot .*: the repository is append-only \(append_only is set in its config\)/)
    }
    expect((await readdir(join(repo, 'snapshots'))).sort()).toEqual(files)
    const dry = await rusticOk(['-r', repo, '--no-cache', 'forget', '--dry-run', '--keep-last', '1'])
    expect(dry.toString()).toMatch(/would remove 2 snapshot\(s\)/)
  })
})
