import { parse } from 'smol-toml'
import { describe, expect, it } from 'vitest'
import { tomlKeyLines } from '../../src/profile/tomlKeyLines.js'

const DOC = `# a comment with [brackets] and key = "value"
title = "x" # trailing

[a]
b = 1
"quoted key" = 'lit'
dotted.key = true
text = """
[not-a-table]
fake = 1
"""
list = [
  1,
  { inner = 2 },
]

[[arr]]
x = 1

[[arr]]
x = 2
[arr.sub]
y = 3

[a.nested]
z = { p = 1, q = [ "r" ] }
`

describe('tomlKeyLines', () => {
  it('finds keys, table headers, array elements and keys of inline tables; strings and comments are skipped', () => {
    expect(() => parse(DOC)).not.toThrow()
    const lines = tomlKeyLines(DOC)
    const cases: Array<[Array<string | number>, number]> = [
      [['title'], 2],
      [['a'], 4],
      [['a', 'b'], 5],
      [['a', 'quoted key'], 6],
      [['a', 'dotted', 'key'], 7],
      [['a', 'text'], 8],
      [['a', 'list'], 12],
      [['a', 'list', 1], 14],
      [['a', 'list', 1, 'inner'], 14],
      [['arr', 0], 17],
      [['arr', 0, 'x'], 18],
      [['arr', 1, 'x'], 21],
      [['arr', 1, 'sub', 'y'], 23],
      [['a', 'nested', 'z', 'q', 0], 26],
    ]
    for (const [path, line] of cases) expect([path, lines.lineOf(path)]).toEqual([path, line])
    expect(lines.lineOf(['not-a-table'])).toBeUndefined()
    expect(lines.lineOf(['a', 'fake'])).toBe(4) // not a key: the table's line
    expect(lines.lineOf(['a', 'list', 1, 'missing'])).toBe(14) // the nearest enclosing key
  })
})
