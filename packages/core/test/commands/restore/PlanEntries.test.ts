import { describe, expect, it } from 'vitest'
import { PlanEntries, type Node } from '@rustic-ts/core/internal'

const T = '2024-01-02T03:04:05.123456789Z'

function node(name: string, type: Node['type'], extra: Partial<Node> = {}): Node {
  return { name, type, mode: type === 'dir' ? 0o755 | 0x80000000 : 0o644, mtime: T, atime: T, ctime: T, uid: 1000, gid: 100, user: 'me', group: 'users', ...extra }
}

describe('PlanEntries', () => {
  it('builds paths from the parents, as strings, or as bytes below a name that is not UTF-8', () => {
    const e = new PlanEntries('/target')
    const a = e.add(-1, node('a', 'dir'), 'create')
    const b = e.add(a, node('b.txt', 'file'), 'create')
    const raw = e.add(a, node('bad\uFFFD', 'dir', { nameRaw: Uint8Array.from([0x62, 0x61, 0x64, 0xff]) }), 'unchanged')
    const c = e.add(raw, node('c', 'symlink', { linktarget: 'x' }), 'create')
    expect(e.length).toBe(4)
    expect(e.path(b)).toBe('/a/b.txt')
    expect(e.fsPath(b)).toBe('/target/a/b.txt')
    expect(e.path(c)).toBe('/a/bad\uFFFD/c')
    expect(e.fsPath(c)).toEqual(Buffer.concat([Buffer.from('/target/a/bad'), Buffer.from([0xff]), Buffer.from('/c')]))
    expect(e.at(c)).toEqual({ path: '/a/bad\uFFFD/c', fsPath: e.fsPath(c), type: 'symlink', action: 'create' })
    expect(e.node(c)?.linktarget).toBe('x')
    expect(e.node(b)).toBeUndefined() // files and directories keep no node
    expect(e.depth(c)).toBe(3)
    expect([...e].map((x) => x.path)).toEqual(['/a', '/a/b.txt', '/a/bad\uFFFD', '/a/bad\uFFFD/c'])
    expect(() => e.at(4)).toThrow(RangeError)
  })

  it('a target of "/" gives no double slash; an entry can have its own path', () => {
    const e = new PlanEntries('/')
    expect(e.fsPath(e.add(-1, node('x', 'file'), 'create'))).toBe('/x')
    const own = e.add(-1, node('snapname', 'file'), 'create', { path: '/renamed', fsPath: '/elsewhere/renamed' })
    expect(e.at(own)).toMatchObject({ path: '/renamed', fsPath: '/elsewhere/renamed' })
  })

  it('keeps the metadata restore sets, and the actions, links and files set while planning', () => {
    const e = new PlanEntries('/t')
    const xattrs = [{ name: 'user.a', value: Uint8Array.from([1]) }]
    const f = e.add(-1, node('f', 'file', { extendedAttributes: xattrs }), 'modify')
    const g = e.add(-1, node('g', 'file', { mode: undefined, mtime: '', atime: '', user: undefined, group: 'staff' }), 'create')
    expect(e.meta(f)).toEqual({
      mode: 0o644,
      uid: 1000,
      gid: 100,
      user: 'me',
      group: 'users',
      mtimeNs: 1704164645123456789n,
      atimeNs: 1704164645123456789n,
      extendedAttributes: xattrs,
    })
    expect(e.meta(g)).toMatchObject({ mode: undefined, mtimeNs: undefined, atimeNs: undefined, user: undefined, group: 'staff' })
    expect(e.hasXattrs(f)).toBe(true)
    expect(e.hasXattrs(g)).toBe(false)
    expect(e.ownerNames().sort()).toEqual(['me', 'staff', 'users'])
    e.setAction(f, 'verified')
    e.setLinkTo(g, f)
    e.setFile(f, 0)
    expect(e.at(f)).toMatchObject({ action: 'verified', file: 0 })
    expect(e.at(g)).toMatchObject({ action: 'create', linkTo: f })
    expect(e.at(g).file).toBeUndefined()
  })

  it('keeps each entry its own times (as restore sets them: Go zero time wrapped, an unreadable time left unset)', () => {
    const e = new PlanEntries('/t')
    const zero = e.add(-1, node('z', 'file', { mtime: '0001-01-01T00:00:00Z', atime: '2024-01-02T04:04:05+01:00' }), 'create')
    const other = e.add(-1, node('o', 'file', { mtime: '1969-12-31T23:59:59.5Z', atime: 'not a time' }), 'create')
    expect(e.meta(zero)).toMatchObject({ mtimeNs: -6795364578871345152n, atimeNs: 1704164645000000000n })
    expect(e.meta(other)).toMatchObject({ mtimeNs: -500000000n, atimeNs: undefined })
  })

  it('non-ASCII names are stored as UTF-8; a name with a lone surrogate keeps its display name', () => {
    const e = new PlanEntries('/t')
    const d = e.add(-1, node('dïr', 'dir'), 'create')
    const f = e.add(d, node('日本.txt', 'file'), 'create')
    const lone = e.add(d, node('a\ud800b', 'file'), 'create')
    expect(e.fsPath(f)).toBe('/t/dïr/日本.txt')
    expect(e.path(f)).toBe('/dïr/日本.txt')
    expect(e.path(lone)).toBe('/dïr/a\ud800b')
    expect(e.fsPath(lone)).toBe('/t/dïr/a\ufffdb') // (the bytes written: U+FFFD for the surrogate)
  })

  it('truncate drops the last entries and their names', () => {
    const e = new PlanEntries('/t')
    const d = e.add(-1, node('d', 'dir'), 'create')
    e.add(d, node('gone', 'symlink'), 'create')
    e.truncate(1)
    expect(e.length).toBe(1)
    const k = e.add(d, node('kept', 'file'), 'create')
    expect(e.path(k)).toBe('/d/kept')
    expect(e.node(k)).toBeUndefined()
    for (let i = 0; i < 3000; i++) e.add(d, node(`n${i}`, 'file'), 'create') // grows past the first capacity
    expect(e.path(e.length - 1)).toBe('/d/n2999')
    expect(e.fsPath(k)).toBe('/t/d/kept')
  })
})
