/**
 * parseTree reads restic's compact JSON through fast paths (member names, ids, plain integers, times);
 * anything else must take the general path and give what Go's decoder gives: whitespace, escaped
 * member names and values, upper-case ids, numbers the fast path does not take.
 */
import { describe, expect, it } from 'vitest'
import { parseTree, RawJson, RusticError, serializeTree } from '@rustic-ts/core/internal'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const T1 = '2023-11-14T23:13:20.123456789+01:00'
const T2 = '2023-11-14T23:13:21Z'
const ID1 = 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
const ID2 = '0cb5d5b1c55b1fb0ba4ee3fe5cbd3b9e2c6e0ba7bc84d6f7bb47c9e0a4c0fa12'

const COMPACT =
  `{"nodes":[{"name":"a.txt","type":"file","mode":420,"mtime":"${T1}","atime":"${T1}","ctime":"${T2}","uid":1000,"gid":100,` +
  `"user":"me","group":"users","inode":123456789012345,"device_id":65024,"size":12,"links":2,"content":["${ID1}","${ID2}"]},` +
  `{"name":"dir","type":"dir","mode":2147484141,"mtime":"${T2}","atime":"${T2}","ctime":"${T2}","uid":0,"gid":0,"content":null,"subtree":"${ID2}"}]}\n`

/** `json` with each structural character outside strings replaced by `f(character)`. */
function spaced(json: string, f: (c: string) => string): string {
  let out = ''
  let inString = false
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!
    if (inString) {
      out += c
      if (c === '\\') out += json[++i]
      else if (c === '"') inString = false
    } else if (c === '"') {
      out += c
      inString = true
    } else out += '{}[],:'.includes(c) ? f(c) : c
  }
  return out
}

describe('parseTree fast paths', () => {
  it('round-trips restic’s compact form', () => {
    const nodes = parseTree(enc(COMPACT), 't')
    expect(dec(serializeTree(nodes))).toBe(COMPACT)
    expect(nodes[0]).toEqual({
      name: 'a.txt',
      type: 'file',
      mode: 420,
      mtime: T1,
      atime: T1,
      ctime: T2,
      uid: 1000,
      gid: 100,
      user: 'me',
      group: 'users',
      inode: 123456789012345n,
      deviceId: 65024n,
      size: 12,
      links: 2,
      content: [ID1, ID2],
    })
  })

  it('reads the same nodes from whitespace, escapes and upper-case ids', () => {
    const variants = [
      // pretty-printed
      spaced(COMPACT, (c) => ('{[,:'.includes(c) ? `${c}\n  ` : `\n${c}`)),
      // spaces and tabs before colons and commas
      spaced(COMPACT, (c) => (c === ':' || c === ',' ? ` \t${c}` : c)),
      // escaped member names (Go matches the decoded name)
      COMPACT.replace('"name"', '"n\\u0061me"').replace('"mtime"', '"\\u006dtime"').replace('"content"', '"conten\\u0074"'),
      // escaped characters in times, ids and strings
      COMPACT.replace(`"ctime":"${T2}"`, `"ctime":"${T2.replace('Z', '\\u005a')}"`)
        .replace(`"${ID1}"`, `"\\u0062${ID1.slice(1)}"`)
        .replace('"me"', '"\\u006de"'),
      // upper-case ids (Go's hex decoder accepts them)
      COMPACT.replace(ID1, ID1.toUpperCase()).replace(`"subtree":"${ID2}"`, `"subtree":"${ID2.toUpperCase()}"`),
    ]
    const want = parseTree(enc(COMPACT), 't')
    for (const v of variants) expect(parseTree(enc(v), 't'), v).toEqual(want)
  })

  it('keeps unknown members that look like known ones', () => {
    const text = COMPACT.replace('"links":2', '"links":2,"nane":"x","sizE":1,"mtimes":[1, 2]')
    const [node] = parseTree(enc(text), 't')
    expect(node!.extra).toEqual({ nane: new RawJson('"x"'), sizE: new RawJson('1'), mtimes: new RawJson('[1, 2]') })
    expect(node!.name).toBe('a.txt')
  })

  it('takes numbers the fast path leaves to the general one', () => {
    const parse = (fields: string): ReturnType<typeof parseTree>[number] =>
      parseTree(enc(COMPACT.replace('"links":2', `"links":2,${fields}`)), 't')[0]!
    expect(parse('"size":9007199254740993').size).toBe(9007199254740992) // 16 digits: kept exact verbatim
    expect(dec(serializeTree([parse('"size":9007199254740993')]))).toContain('"size":9007199254740993')
    expect(parse('"inode":18446744073709551615').inode).toBe(18446744073709551615n)
    expect(parse('"uid":4294967295').uid).toBe(4294967295)
    expect(parse('"inode":999999999999999').inode).toBe(999999999999999n) // 15 digits: fast
    expect(parse('"uid":0').uid).toBe(0)
    for (const [fields, msg] of [
      ['"uid":4294967296', /out of range/],
      ['"uid":01', /invalid JSON/],
      ['"size":1e3', /not an unsigned integer/],
      ['"size":1.0', /not an unsigned integer/],
      ['"links":-1', /not an unsigned integer/],
      ['"size":18446744073709551616', /out of range/],
      ['"mtime":"2023-02-29T00:00:00Z"', /RFC 3339/],
      ['"mtime":"2023-01-01T00:00:00Z\\u0000"', /RFC 3339/],
      ['"content":["' + ID1.slice(1) + '"]', /not an id/],
      ['"content":["' + ID1 + 'a"]', /not an id/],
      ['"subtree":"' + ID1.slice(0, 63) + 'g"', /not an id/],
    ] as const) {
      let err: unknown
      try {
        parse(fields)
      } catch (e) {
        err = e
      }
      expect(err, fields).toBeInstanceOf(RusticError)
      expect((err as RusticError).message, fields).toMatch(msg)
    }
  })

  it('checks every time, also one equal to the time before it', () => {
    const bad = COMPACT.replace(`"ctime":"${T2}"`, '"ctime":"2023-13-01T00:00:00Z"')
    expect(() => parseTree(enc(bad), 't')).toThrow(/RFC 3339/)
    // the same valid literal three times, then a different one, across nodes and trees
    for (let i = 0; i < 3; i++) expect(parseTree(enc(COMPACT), 't')[1]!.ctime).toBe(T2)
  })
})
