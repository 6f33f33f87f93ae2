import { describe, expect, it } from 'vitest'
import { checkNodeName, type Node } from '@rustic-ts/core/internal'

const node = (name: string, nameRaw?: Uint8Array): Node =>
  ({ name, nameRaw, type: 'file', mtime: '', atime: '', ctime: '', uid: 0, gid: 0 }) as Node

describe('checkNodeName', () => {
  it("refuses empty, '.', '..' and names with '/' or NUL, as text or raw bytes", () => {
    for (const n of ['', '.', '..', 'a/b', '/', 'a\0b']) expect(() => checkNodeName(node(n), '/d'), JSON.stringify(n)).toThrow(/unsafe name/)
    for (const raw of [[], [0x2e], [0x2e, 0x2e], [0xff, 0x2f], [0x61, 0x00]]) {
      expect(() => checkNodeName(node('x', Uint8Array.from(raw)), '/d'), String(raw)).toThrow(expect.objectContaining({ code: 'UnsafeName' }))
    }
  })

  it('accepts other names', () => {
    for (const n of ['a', '...', '.a', 'a..', 'ü/'.slice(0, 1), '日本', 'a\\b']) expect(() => checkNodeName(node(n), '/d')).not.toThrow()
    expect(() => checkNodeName(node('\uFFFD', Uint8Array.from([0xff, 0x2e])), '/d')).not.toThrow()
  })
})
