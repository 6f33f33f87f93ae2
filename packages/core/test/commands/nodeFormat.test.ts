import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { goJson, goModeString, lsNodeJson, RawJson, type Node } from '@rustic-ts/core/internal'

/** `ls --json`'s line as the generic Go JSON writer makes it from restic's members. */
function viaGoJson(node: Node, path: string): string {
  return goJson({
    name: node.name,
    type: node.type,
    path,
    uid: node.uid,
    gid: node.gid,
    size: node.type === 'file' ? new RawJson(String(node.size ?? 0)) : undefined,
    mode: node.mode || undefined,
    permissions: goModeString(node.mode ?? 0),
    mtime: node.mtime,
    atime: node.atime,
    ctime: node.ctime,
    struct_type: 'node',
  })
}

describe('lsNodeJson', () => {
  it('writes the same text as the generic Go JSON writer, for any names, modes, sizes and times', () => {
    const text = fc.oneof(fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 6 }), fc.constantFrom('a<b>&c', '\u2028', '\b\f', '\ud800x'))
    const node = fc.record({
      name: text,
      type: fc.constantFrom('file', 'dir', 'symlink', 'dev', 'chardev', 'fifo', 'socket', 'irregular'),
      uid: fc.nat({ max: 0xffffffff }),
      gid: fc.nat({ max: 0xffffffff }),
      size: fc.option(fc.oneof(fc.nat(), fc.constant(2 ** 60)), { nil: undefined }),
      mode: fc.option(fc.oneof(fc.constantFrom(0, 0o644, 0o755, 0x80000000 | 0o755, 0x8000000 | 0o777), fc.nat({ max: 0xffffffff })), { nil: undefined }),
      mtime: fc.constantFrom('2026-12-06T18:35:52.587535896Z', '0001-01-01T00:00:00Z', '2026-12-06T19:35:52+01:00'),
      atime: fc.constantFrom('2026-12-06T18:35:52.587535896Z', '0001-01-01T00:00:00Z'),
      ctime: fc.constantFrom('2026-12-06T18:35:52.587535896Z', '0001-01-01T00:00:00Z'),
    })
    fc.assert(
      fc.property(node, text, (n, path) => {
        expect(lsNodeJson(n as Node, path)).toBe(viaGoJson(n as Node, path))
      }),
      { numRuns: 1000 },
    )
  })
})
