import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import ts from 'typescript'
import { describe, expect, it } from 'vitest'
import * as core from '@rustic-ts/core'
import * as rusticTs from 'rustic-ts'

const root = fileURLToPath(new URL('../../../../', import.meta.url))
const PACKAGES = ['core', 'backend-local', 'backend-rest', 'backend-rclone', 'backend-opendal', 'cache', 'backend-testkit', 'rest-server', 'rustic-ts'] as const
type Pkg = (typeof PACKAGES)[number]
const npmName = (p: Pkg): string => (p === 'rustic-ts' ? 'rustic-ts' : `@rustic-ts/${p}`)
const indexFile = (p: Pkg): string => `${root}packages/${p}/src/index.ts`
const VALUE_KINDS = new Set(['class', 'function', 'constant', 'schema'])

interface Documented {
  kind: string
  what: string
}

/** The tables of docs/api-surface.md, by package: name -> kind and description. */
function documented(): Map<string, Map<string, Documented>> {
  const out = new Map<string, Map<string, Documented>>()
  let current: Map<string, Documented> | undefined
  for (const line of readFileSync(`${root}docs/api-surface.md`, 'utf8').split('\n')) {
    const heading = /^## `([^`]+)`/.exec(line)
    if (heading) out.set(heading[1]!, (current = new Map()))
    const row = /^\| `([^`]+)` \| ([^|]+) \| (.*) \|$/.exec(line)
    if (row && current) current.set(row[1]!, { kind: row[2]!.trim(), what: row[3]!.trim() })
  }
  return out
}

/** The names each package's src/index.ts exports (through the monorepo's tsconfig paths), value or type only. */
function exported(): Map<Pkg, Map<string, 'value' | 'type'>> {
  const config = ts.getParsedCommandLineOfConfigFile(`${root}tsconfig.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => {} })!
  const program = ts.createProgram(PACKAGES.map(indexFile), { ...config.options, noEmit: true })
  const checker = program.getTypeChecker()
  const out = new Map<Pkg, Map<string, 'value' | 'type'>>()
  for (const p of PACKAGES) {
    const names = new Map<string, 'value' | 'type'>()
    const module = checker.getSymbolAtLocation(program.getSourceFile(indexFile(p))!)!
    for (const s of checker.getExportsOfModule(module)) {
      const target = s.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(s) : s
      names.set(s.name, target.flags & ts.SymbolFlags.Value ? 'value' : 'type')
    }
    out.set(p, names)
  }
  return out
}

describe('the public API of every package is the list in docs/api-surface.md', () => {
  const docs = documented()
  const names = exported()
  const docsOf = (p: Pkg): Map<string, Documented> => docs.get(npmName(p)) ?? new Map()

  it('each package exports a chosen list by name (no export * of a layer)', () => {
    for (const p of PACKAGES) expect(readFileSync(indexFile(p), 'utf8'), p).not.toMatch(/export \*/)
  })

  for (const p of PACKAGES) {
    it(`${npmName(p)}: every exported name is in the table, and every name of the table is exported, as a value or a type as listed`, () => {
      const table = new Map(docsOf(p))
      if (p === 'rustic-ts') {
        for (const dep of ['core', 'backend-local', 'backend-rest', 'backend-rclone', 'backend-opendal', 'cache'] as const) {
          for (const [n, d] of docsOf(dep)) table.set(n, d)
        }
      }
      const actual = names.get(p)!
      const undocumented = [...actual.keys()].filter((n) => !table.has(n)).sort()
      const missing = [...table.keys()].filter((n) => !actual.has(n)).sort()
      expect(undocumented, `exported by ${npmName(p)} but not in docs/api-surface.md`).toEqual([])
      expect(missing, `in docs/api-surface.md but not exported by ${npmName(p)}`).toEqual([])
      for (const [n, d] of table) {
        expect(d.what, `${n}: description`).not.toBe('')
        expect(VALUE_KINDS.has(d.kind) ? 'value' : d.kind === 'type' ? 'type' : `unknown kind ${d.kind}`, `${npmName(p)} ${n}`).toBe(actual.get(n))
      }
    })
  }

  it('the runtime exports of @rustic-ts/core and rustic-ts are exactly their documented values', () => {
    const values = (p: Pkg): string[] => [...names.get(p)!].filter(([, k]) => k === 'value').map(([n]) => n).sort()
    expect(Object.keys(core).sort()).toEqual(values('core'))
    expect(Object.keys(rusticTs).sort()).toEqual(values('rustic-ts'))
  })
})
