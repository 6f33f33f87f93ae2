/**
 * parseTreeLinks must give what parseTree gives for a node's name, type, content and subtree, and throw what
 * parseTree throws, for any input: restic's compact trees (its byte scan), anything else (parseTree itself),
 * and damaged trees in between. Differential: generated trees, written as restic writes them and then
 * varied member by member or damaged byte by byte, go through both.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { parseTree, parseTreeLinks, serializeTree, type Node } from '@rustic-ts/core/internal'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const ID1 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
const ID2 = '0cb5d5b1c55b1fb0ba4ee3fe5cbd3b9e2c6e0ba7bc84d6f7bb47c9e0a4c0fa12'
const NULL_ID = '0'.repeat(64)

type Outcome = { nodes: Array<Pick<Node, 'name' | 'type' | 'content' | 'subtree'>> } | { error: string }

/** What `parse` gives for `bytes`: the four members of each node, or the error's code and message. */
function outcome(parse: (b: Uint8Array, what: string) => Array<Pick<Node, 'name' | 'type' | 'content' | 'subtree'>>, bytes: Uint8Array): Outcome {
  try {
    return { nodes: parse(bytes, 'tree 1234').map((n) => ({ name: n.name, type: n.type, content: n.content, subtree: n.subtree })) }
  } catch (e) {
    return { error: `${(e as { code?: string }).code}: ${(e as Error).message}` }
  }
}

/** True if parseTreeLinks read `bytes` by its own scan (its nodes hold only the four members). */
function scanned(bytes: Uint8Array): boolean {
  const nodes = parseTreeLinks(bytes, 't')
  return nodes.every((n) => Object.keys(n).every((k) => ['name', 'type', 'content', 'subtree'].includes(k)))
}

function expectSame(bytes: Uint8Array): void {
  expect(outcome(parseTreeLinks, bytes), dec(bytes)).toEqual(outcome(parseTree, bytes))
}

const time = fc.constantFrom(
  '2023-11-14T23:13:20.123456789+01:00',
  '2023-11-14T23:13:21Z',
  '2024-02-29T00:00:00Z',
  '0001-01-01T00:00:00Z',
  '2023-02-29T00:00:00Z', // not a date
  '2023-13-01T00:00:00Z',
  '2023-01-01T24:00:00Z',
  '2023-01-01T00:00:00,5Z',
  '2023-01-01T00:00:00.Z',
  '2023-01-01T00:00:00+0100',
  '2023-01-01 00:00:00Z',
  '+12023-01-01T00:00:00Z',
  '',
)
const uint = fc.constantFrom('0', '1', '420', '4294967295', '4294967296', '999999999999999', '9007199254740993', '18446744073709551616', '01', '-1', '1e3', '1.0', 'null', '"1"')
const id = fc.constantFrom(`"${ID1}"`, `"${ID2}"`, `"${NULL_ID}"`, `"${ID1.toUpperCase()}"`, `"${ID1.slice(1)}"`, `"${ID1}a"`, `"\\u0062${ID1.slice(1)}"`, 'null', '1')
const name = fc.oneof(
  fc.constantFrom('a.txt', '', 'dir', 'x y', 'a&b', '<>', 'ä', '\u00ff', 'a\\"b', 'tab\t', '\u2028', 'caf\u00e9'),
  fc.string({ maxLength: 6 }),
)
const type = fc.constantFrom('file', 'dir', 'symlink', 'dev', 'chardev', 'fifo', 'socket', 'blob', '', 'FILE')

/** One member's text: mostly as restic writes it, sometimes in another form parseTree takes or rejects. */
const member: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: name.map((n) => `"name":${JSON.stringify(n)}`) },
  { weight: 3, arbitrary: type.map((t) => `"type":${JSON.stringify(t)}`) },
  fc.tuple(fc.constantFrom('mode', 'uid', 'gid', 'inode', 'device_id', 'device', 'size', 'links'), uint).map(([k, v]) => `"${k}":${v}`),
  fc.tuple(fc.constantFrom('mtime', 'atime', 'ctime'), time).map(([k, t]) => `"${k}":${JSON.stringify(t)}`),
  fc.tuple(fc.constantFrom('user', 'group', 'linktarget', 'error'), fc.oneof(name, fc.constant(null))).map(([k, v]) => `"${k}":${JSON.stringify(v)}`),
  { weight: 3, arbitrary: fc.oneof(fc.array(id, { maxLength: 3 }).map((ids) => `"content":[${ids.join(',')}]`), fc.constant('"content":null')) },
  { weight: 2, arbitrary: id.map((i) => `"subtree":${i}`) },
  fc.constantFrom('"linktarget_raw":"AAE="', '"extended_attributes":null', '"generic_attributes":{"a":1}', '"nane":"x"', '"n\\u0061me":"esc"', '"name" : "spaced"'),
)
const nodeText = fc.array(member, { maxLength: 8 }).map((ms) => `{${ms.join(',')}}`)
const treeText = fc
  .tuple(fc.array(nodeText, { maxLength: 4 }), fc.constantFrom('\n', '', ' ', '\n\n', 'x'))
  .map(([nodes, end]) => `{"nodes":[${nodes.join(',')}]}${end}`)

/** A sound node as restic writes it. */
const soundNode: fc.Arbitrary<Node> = fc
  .record({
    name: fc.stringMatching(/^[a-z0-9._ -]{1,12}$/),
    kind: fc.constantFrom('file', 'dir', 'symlink'),
    ids: fc.array(fc.constantFrom(ID1, ID2, NULL_ID), { maxLength: 3 }),
    size: fc.nat(),
    mode: fc.nat({ max: 0xffffffff }),
  })
  .map(({ name: n, kind, ids, size, mode }): Node => {
    const base = { name: n, mode, mtime: '2023-11-14T23:13:20.5+01:00', atime: '2023-11-14T23:13:20.5+01:00', ctime: '2023-11-14T23:13:21Z', uid: 1000, gid: 100 }
    if (kind === 'file') return { ...base, type: 'file', size, content: ids as Node['content'] }
    if (kind === 'dir') return { ...base, type: 'dir', subtree: ID2 as Node['subtree'] }
    return { ...base, type: 'symlink', linktarget: '../x' }
  })
const soundTree = fc.uniqueArray(soundNode, { maxLength: 6, selector: (n) => n.name }).map((nodes) => serializeTree(nodes))

describe('parseTreeLinks', () => {
  it('reads restic’s compact trees by its scan, with parseTree’s names, types, contents and subtrees', () => {
    fc.assert(
      fc.property(soundTree, (bytes) => {
        expect(scanned(bytes)).toBe(true)
        expectSame(bytes)
      }),
      { numRuns: 300 },
    )
    expect(scanned(enc('{"nodes":null}'))).toBe(true)
    expect(parseTreeLinks(enc('{"nodes":[]}\n'), 't')).toEqual([])
  })

  it('agrees with parseTree on trees with members in every form', () => {
    fc.assert(fc.property(treeText, (text) => expectSame(enc(text))), { numRuns: 3000 })
  })

  it('agrees with parseTree on damaged trees', () => {
    const damage = fc.tuple(soundTree, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom('flip', 'set', 'cut', 'drop', 'insert'))
    fc.assert(
      fc.property(damage, ([bytes, at, value, how]) => {
        const i = bytes.length === 0 ? 0 : at % bytes.length
        let damaged: Uint8Array
        if (how === 'flip') damaged = bytes.map((b, j) => (j === i ? b ^ (1 << (value % 8)) : b))
        else if (how === 'set') damaged = bytes.map((b, j) => (j === i ? value : b))
        else if (how === 'cut') damaged = bytes.subarray(0, i)
        else if (how === 'drop') damaged = new Uint8Array([...bytes.subarray(0, i), ...bytes.subarray(i + 1)])
        else damaged = new Uint8Array([...bytes.subarray(0, i), value, ...bytes.subarray(i)])
        expectSame(damaged)
      }),
      { numRuns: 3000 },
    )
  })

  it('takes the same members as parseTree where both read them', () => {
    for (const text of [
      '{"nodes":[{"name":"a","type":"file","content":null}]}',
      '{"nodes":[{"name":"a","type":"file","content":["' + ID1 + '"],"content":null}]}',
      '{"nodes":[{"name":"a","type":"dir","subtree":"' + ID1 + '","subtree":null}]}',
      '{"nodes":[{"name":"a","name":"b","type":"symlink","type":null}]}',
      '{"nodes":[{"type":"file"}]}',
      '{"nodes":[{}]}',
      '{"nodes":[{"name":"a","type":"file","mode":4294967296}]}',
      '{"nodes":[{"name":"a","type":"file","mtime":"2023-02-29T00:00:00Z"}]}',
      '{"nodes":[{"name":"a","type":"file","size":1234567890123456}]}',
      '{"nodes":[{"name":"a","type":"file","content":["' + ID1.toUpperCase() + '"]}]}',
      '{"nodes":[{"name":"\\u0061","type":"file"}]}',
      '{"nodes":[]}x',
      '\ufeff{"nodes":[]}',
    ]) {
      expectSame(enc(text))
    }
  })
})
