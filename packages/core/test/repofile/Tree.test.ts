import { describe, expect, it } from 'vitest'
import {
  hashId,
  nodeNameBytes,
  parseTree,
  RawJson,
  sameSerializedNode,
  serializeNode,
  serializeTree,
  type Id,
  type Node,
} from '@rustic-ts/core/internal'
import { thrown } from '../error/thrown.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const T = '2026-11-23T15:19:53.317077288Z'
const ID1 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad' as Id
const ID2 = '0cb5d5b1c55b1fb0ba4ee3fe5cbd3b9e2c6e0ba7bc84d6f7bb47c9e0a4c0fa12' as Id

function roundTrip(text: string): Node[] {
  const nodes = parseTree(enc(text), 'tree test')
  expect(dec(serializeTree(nodes))).toBe(text)
  return nodes
}

describe('tree blobs', () => {
  it('round-trips a real restic 0.14 tree byte for byte', () => {
    const text =
      '{"nodes":[{"name":"a.txt","type":"file","mode":420,"mtime":"2026-11-23T15:19:53.317077288Z","atime":"2026-11-23T15:19:53.317077288Z","ctime":"2026-11-23T15:19:53.317077288Z","uid":0,"gid":0,"user":"root","group":"root","inode":2163346,"device_id":65024,"size":3,"links":1,"content":["ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"]}]}\n'
    expect(enc(text).length).toBe(354)
    const [node] = roundTrip(text)
    expect(node).toEqual({
      name: 'a.txt',
      type: 'file',
      mode: 420,
      mtime: T,
      atime: T,
      ctime: T,
      uid: 0,
      gid: 0,
      user: 'root',
      group: 'root',
      inode: 2163346n,
      deviceId: 65024n,
      size: 3,
      links: 1,
      content: [ID1],
    })
  })

  it('writes restic field order and omitempty rules', () => {
    const dir: Node = { name: 'd', type: 'dir', mode: 2147484141, mtime: T, atime: T, ctime: T, uid: 0, gid: 0, inode: 5n, deviceId: 65024n, content: null, subtree: ID2 }
    expect(serializeNode(dir)).toBe(
      `{"name":"d","type":"dir","mode":2147484141,"mtime":"${T}","atime":"${T}","ctime":"${T}","uid":0,"gid":0,"inode":5,"device_id":65024,"content":null,"subtree":"${ID2}"}`,
    )
    const link: Node = { name: 'l', type: 'symlink', mode: 134218239, mtime: T, atime: T, ctime: T, uid: 1000, gid: 1000, links: 1, linktarget: 'hello.txt' }
    expect(serializeNode(link)).toBe(
      `{"name":"l","type":"symlink","mode":134218239,"mtime":"${T}","atime":"${T}","ctime":"${T}","uid":1000,"gid":1000,"links":1,"linktarget":"hello.txt","content":null}`,
    )
    const empty: Node = { name: 'e', type: 'file', mtime: '', atime: '', ctime: '', uid: 0, gid: 0, content: [], error: 'x<y' }
    expect(serializeNode(empty)).toBe(
      '{"name":"e","type":"file","mtime":"0001-01-01T00:00:00Z","atime":"0001-01-01T00:00:00Z","ctime":"0001-01-01T00:00:00Z","uid":0,"gid":0,"content":[],"error":"x\\u003cy"}',
    )
    const dev: Node = {
      name: 'sda',
      type: 'dev',
      mode: 67109296,
      mtime: T,
      atime: T,
      ctime: T,
      uid: 0,
      gid: 6,
      group: 'disk',
      links: 1,
      extendedAttributes: [{ name: 'user.a', value: enc('hi') }, { name: 'user.empty', value: new Uint8Array(0) }],
      device: 2048n,
    }
    expect(serializeNode(dev)).toBe(
      `{"name":"sda","type":"dev","mode":67109296,"mtime":"${T}","atime":"${T}","ctime":"${T}","uid":0,"gid":6,"group":"disk","links":1,"extended_attributes":[{"name":"user.a","value":"aGk="},{"name":"user.empty","value":""}],"device":2048,"content":null}`,
    )
  })

  it('writes an empty tree as restic does and reads null node lists', () => {
    expect(dec(serializeTree([]))).toBe('{"nodes":[]}\n')
    expect(hashId(serializeTree([]))).toBe(hashId(enc('{"nodes":[]}\n')))
    expect(parseTree(enc('{"nodes":null}'), 't')).toEqual([])
    expect(parseTree(enc(' { "other" : [1, {"a":null}], "nodes" : [ ] } \n'), 't')).toEqual([])
  })

  it('keeps uint64 values above 2^53 exact', () => {
    const text = `{"nodes":[{"name":"big","type":"chardev","mode":69206454,"mtime":"${T}","atime":"${T}","ctime":"${T}","uid":4294967295,"gid":4294967294,"inode":18446744073709551615,"device_id":9007199254740993,"links":1,"device":18446744073709551614,"content":null}]}\n`
    const [node] = roundTrip(text)
    expect(node!.inode).toBe(18446744073709551615n)
    expect(node!.deviceId).toBe(9007199254740993n)
    expect(node!.device).toBe(18446744073709551614n)
    expect(node!.uid).toBe(4294967295)
    // size and links are numbers: beyond 2^53 the exact text is kept for writing back
    const huge = `{"nodes":[{"name":"sparse","type":"file","mtime":"${T}","atime":"${T}","ctime":"${T}","uid":0,"gid":0,"size":18446744073709551615,"links":9007199254740993,"content":[]}]}\n`
    const [sparse] = roundTrip(huge)
    expect(sparse!.size).toBe(2 ** 64)
    sparse!.size = 2 ** 60
    expect(dec(serializeTree([sparse!]))).toContain('"size":1152921504606846976,"links":9007199254740993,')
  })

  it('sorts nodes by raw name bytes (UTF-8 order, not UTF-16) and refuses duplicate names', () => {
    const mk = (name: string | Uint8Array): Node => ({
      ...(typeof name === 'string' ? { name } : { name: '?', nameRaw: name }),
      type: 'file',
      mtime: T,
      atime: T,
      ctime: T,
      uid: 0,
      gid: 0,
      content: [],
    })
    const names = ['😀', '\uff5e', 'b', 'B', 'a b', 'é', Uint8Array.from([0x61, 0xff]), Uint8Array.from([0x61, 0x80])]
    const nodes = parseTree(serializeTree(names.map(mk)), 't')
    expect(nodes.map((n) => Buffer.from(nodeNameBytes(n)).toString('hex'))).toEqual(
      ['B', 'a b', Uint8Array.from([0x61, 0x80]), Uint8Array.from([0x61, 0xff]), 'b', 'é', '\uff5e', '😀'].map((n) =>
        Buffer.from(typeof n === 'string' ? enc(n) : n).toString('hex'),
      ),
    )
    expect(nodes[2]!.nameRaw).toEqual(Uint8Array.from([0x61, 0x80]))
    expect(nodes[2]!.name).toBe('a\ufffd')
    expect(thrown(() => serializeTree([mk('x'), mk('y'), mk('x')])).code).toBe('DuplicateName')
    expect(thrown(() => serializeTree([mk('a\ufffd'), mk(enc('a\ufffd'))])).code).toBe('DuplicateName')
  })

  it('quotes names like restic and reads them back', () => {
    const text = `{"nodes":[{"name":"\\\\x07\\\\xff\\\\u00a0\\\\u2028 \\\\\\"q\\\\\\\\ ü日本😀\\u003c","type":"fifo","mode":33554852,"mtime":"${T}","atime":"${T}","ctime":"${T}","uid":0,"gid":0,"content":null}]}\n`
    const [node] = roundTrip(text)
    expect(node!.nameRaw).toEqual(new Uint8Array(Buffer.concat([Buffer.from([7, 0xff]), Buffer.from('\u00a0\u2028 "q\\ ü日本😀<')])))
    expect(node!.name).toBe('\x07\ufffd\u00a0\u2028 "q\\ ü日本😀<')
  })

  it('reads restic 0.16/0.17 trees (linktarget_raw, generic_attributes, no device_id) byte for byte', () => {
    const text =
      `{"nodes":[{"name":"l","type":"symlink","mode":134218239,"mtime":"${T}","atime":"${T}","ctime":"${T}","uid":0,"gid":0,"inode":7,"links":1,` +
      `"linktarget":"a\\ufffdb","linktarget_raw":"Yf9i","content":null},` +
      `{"name":"w","type":"file","mode":420,"mtime":"2024-01-02T03:04:05+01:00","atime":"${T}","ctime":"${T}","uid":0,"gid":0,"device_id":1,"size":1,"links":2,` +
      `"extended_attributes":[{"name":"user.x","value":"AA=="}],"generic_attributes":{"windows.attributes":"eyJSZWFkT25seSI6dHJ1ZX0="},"content":["${ID1}"],"future":{"x":[1,2.5e3,true]}}]}\n`
    const nodes = roundTrip(text)
    expect(nodes[0]!.linktargetRaw).toEqual(Uint8Array.from([0x61, 0xff, 0x62]))
    expect(nodes[0]!.linktarget).toBe('a\ufffdb')
    expect(nodes[0]!.deviceId).toBeUndefined()
    expect(nodes[1]!.extra).toEqual({
      generic_attributes: new RawJson('{"windows.attributes":"eyJSZWFkT25seSI6dHJ1ZX0="}'),
      future: new RawJson('{"x":[1,2.5e3,true]}'),
    })
    // members out of restic's order are written back in place
    const shuffled = text.replace('"uid":0,"gid":0,"device_id":1,', '"device_id":1,"uid":0,"gid":0,')
    expect(dec(serializeTree(parseTree(enc(shuffled), 't')))).toBe(text)
  })

  it('keeps restic 0.14 lossy symlink targets verbatim, and re-encodes them once changed', () => {
    const text = `{"nodes":[{"name":"l","type":"symlink","mtime":"${T}","atime":"${T}","ctime":"${T}","uid":0,"gid":0,"links":1,"linktarget":"a\\ufffdb\ufffd","user":"x","content":null}]}\n`
    const nodes = parseTree(enc(text), 't')
    const canonical = text.replace(',"user":"x"', '').replace('"links":1,', '"user":"x","links":1,')
    expect(dec(serializeTree(nodes))).toBe(canonical)
    nodes[0]!.linktarget = 'a\ufffdc\ufffd'
    expect(dec(serializeTree(nodes))).toContain('"linktarget":"a\ufffdc\ufffd"')
  })

  it('writes non-UTF-8 symlink targets as restic 0.16+ does', () => {
    const node: Node = { name: 'l', type: 'symlink', mtime: T, atime: T, ctime: T, uid: 0, gid: 0, linktarget: 'x', linktargetRaw: Uint8Array.from([0x2f, 0xc3]) }
    expect(serializeNode(node)).toContain('"linktarget":"/\\ufffd","linktarget_raw":"L8M=","content":null')
    // a valid UTF-8 raw target needs no linktarget_raw
    node.linktargetRaw = enc('/ok')
    expect(serializeNode(node)).toContain('"linktarget":"/ok","content":null')
  })

  it('rejects malformed trees with a DecodeError naming the tree', () => {
    const node = (fields: string): string =>
      `{"nodes":[{"name":"n","type":"file","mtime":"${T}","atime":"${T}","ctime":"${T}","uid":0,"gid":0,"content":[]${fields}}]}`
    const cases: Array<[string, RegExp]> = [
      ['{"nodes":[', /invalid JSON/],
      ['{"nodes":[]} x', /invalid JSON/],
      ['{"nodes":[{"name":"a\u0001"}]}', /invalid JSON/],
      ['[]', /invalid JSON/],
      [node(',"type":"weird"'), /node 0 \("n"\): unknown type/],
      [node(',"mode":-1'), /mode|unsigned/],
      [node(',"uid":4294967296'), /out of range/],
      [node(',"size":18446744073709551616'), /out of range/],
      [node(',"inode":18446744073709551616'), /out of range/],
      [node(',"inode":1.5'), /unsigned/],
      [node(',"mtime":"yesterday"'), /RFC 3339/],
      [node(',"subtree":"abc"'), /not an id/],
      [node(',"content":["zz"]'), /not an id/],
      [node(',"name":"bad\\\\q"'), /escape/],
      [node(',"user":5'), /expected a string/],
      [node(',"extended_attributes":[{"name":"a","value":"!!"}]'), /base64/],
      ['{"nodes":[{"name":"n"}]}', /no type/],
    ]
    for (const [text, msg] of cases) {
      const err = thrown(() => parseTree(enc(text), 'tree 1234abcd'))
      expect(err.kind, text).toBe('Repository')
      expect(err.code, text).toBe('DecodeError')
      expect(err.message, text).toContain('tree 1234abcd')
      expect(err.message, text).toMatch(msg)
    }
  })

  it('accepts null members as Go does (zero values)', () => {
    const nodes = parseTree(
      enc(`{"nodes":[{"name":"n","type":"file","mode":null,"mtime":null,"atime":"${T}","ctime":"${T}","uid":0,"gid":0,"user":null,"content":null,"subtree":null,"extended_attributes":null,"generic_attributes":null}]}`),
      't',
    )
    expect(nodes[0]).toEqual({ name: 'n', type: 'file', mtime: '0001-01-01T00:00:00Z', atime: T, ctime: T, uid: 0, gid: 0, content: null })
  })

  it('sameSerializedNode agrees with comparing serializeNode texts, and leaves unusual nodes to them', () => {
    const base: Node = {
      name: 'f',
      type: 'file',
      mode: 0o644,
      mtime: T,
      atime: T,
      ctime: T,
      uid: 1000,
      gid: 1000,
      user: 'me',
      group: 'me',
      inode: 42n,
      deviceId: 7n,
      size: 3,
      links: 1,
      content: [ID1],
    }
    // one member changed (or dropped, or set to the value serializeNode leaves out) at a time
    const variants: Partial<Node>[] = [
      {},
      { name: 'g' },
      { type: 'dir', content: null, subtree: ID2 },
      { mode: 0o600 },
      { mode: 0 },
      { mode: undefined },
      { mtime: '2026-11-23T15:19:53.317077289Z' },
      { atime: '' },
      { atime: '0001-01-01T00:00:00Z' },
      { ctime: T.replace('Z', '+01:00') },
      { uid: 0 },
      { gid: 1001 },
      { user: '' },
      { user: undefined },
      { group: 'other' },
      { inode: 43n },
      { inode: 0n },
      { inode: undefined },
      { deviceId: undefined },
      { size: 0 },
      { size: undefined },
      { size: 4 },
      { links: 2 },
      { linktarget: 'x' },
      { linktarget: '' },
      { device: 5n },
      { content: [] },
      { content: null },
      { content: [ID1, ID2] },
      { content: [ID2] },
      { subtree: ID2 },
      { error: 'boom' },
    ]
    const nodes = variants.map((v) => ({ ...base, ...v }) as Node)
    for (const a of nodes) {
      for (const b of nodes) expect(sameSerializedNode(a, b)).toBe(serializeNode(a) === serializeNode(b))
    }
    // unusual members: the texts decide
    const parsed = parseTree(enc('{"nodes":[{"name":"a","type":"file","mtime":"' + T + '","atime":"' + T + '","ctime":"' + T + '","uid":0,"gid":0,"size":1,"content":[],"generic_attributes":{"x":1}}]}\n'), 't')
    expect(sameSerializedNode(parsed[0]!, parsed[0]!)).toBeUndefined()
    expect(sameSerializedNode({ ...base, nameRaw: new Uint8Array([0xff]) }, base)).toBeUndefined()
    expect(sameSerializedNode(base, { ...base, extendedAttributes: [{ name: 'user.x', value: new Uint8Array([1]) }] })).toBeUndefined()
  })

  it('parses a large tree quickly', () => {
    const nodes: Node[] = []
    for (let i = 0; i < 20000; i++) {
      nodes.push({
        name: `file-${i}.dat`,
        type: 'file',
        mode: 420,
        mtime: T,
        atime: T,
        ctime: T,
        uid: 1000,
        gid: 1000,
        user: 'user',
        group: 'user',
        inode: BigInt(1000000 + i),
        deviceId: 65024n,
        size: 1234567,
        links: 1,
        content: [ID1, ID2],
      })
    }
    let t = performance.now()
    const bytes = serializeTree(nodes)
    const ser = performance.now() - t
    t = performance.now()
    const back = parseTree(bytes, 't')
    const par = performance.now() - t
    expect(back.length).toBe(20000)
    expect(dec(serializeTree(back))).toBe(dec(bytes))
    console.log(`20000 nodes, ${(bytes.length / 2 ** 20).toFixed(1)} MiB: serialize ${ser.toFixed(0)} ms, parse ${par.toFixed(0)} ms`)
  })
})
