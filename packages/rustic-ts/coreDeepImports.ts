import { readFile } from 'node:fs/promises'
import { fileURLToPath, pathToFileURL } from 'node:url'
import type { Plugin } from 'esbuild'
import ts from 'typescript'

const CORE_SRC = fileURLToPath(new URL('../core/src/', import.meta.url))
const BARRELS: Record<string, string> = {
  '@rustic-ts/core': `${CORE_SRC}index.ts`,
  '@rustic-ts/core/internal': `${CORE_SRC}internal.ts`,
}

/**
 * Where each name of core's two barrels (`@rustic-ts/core`, `@rustic-ts/core/internal`) is declared:
 * barrel specifier -> exported name -> the source file that declares it under that name.
 */
function coreExportMap(): Map<string, Map<string, string>> {
  const program = ts.createProgram(Object.values(BARRELS), {
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    target: ts.ScriptTarget.ES2022,
    noEmit: true,
    skipLibCheck: true,
    types: [],
  })
  const checker = program.getTypeChecker()
  const cache = new Map<ts.SourceFile, Map<string, ts.Symbol>>()
  const exportsOf = (file: ts.SourceFile): Map<string, ts.Symbol> => {
    let exports = cache.get(file)
    if (!exports) {
      const symbol = checker.getSymbolAtLocation(file)
      exports = new Map((symbol ? checker.getExportsOfModule(symbol) : []).map((s) => [s.name, s]))
      cache.set(file, exports)
    }
    return exports
  }
  const result = new Map<string, Map<string, string>>()
  for (const [specifier, barrel] of Object.entries(BARRELS)) {
    const names = new Map<string, string>()
    for (const [name, symbol] of exportsOf(program.getSourceFile(barrel)!)) {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol
      const file = target.declarations?.[0]?.getSourceFile()
      // only a file that itself exports the value under the same name (else the import stays on the barrel)
      if (file && !file.isDeclarationFile && exportsOf(file).get(name) !== undefined) names.set(name, file.fileName)
    }
    result.set(specifier, names)
  }
  return result
}

/**
 * The files the `starts` load through static relative imports (themselves included): what a program loads
 * before any of its dynamic imports.
 */
function staticClosure(starts: readonly string[]): Set<string> {
  const seen = new Set<string>()
  const pending = [...starts]
  while (pending.length > 0) {
    const file = pending.pop()!
    if (seen.has(file)) continue
    seen.add(file)
    const source = ts.createSourceFile(file, ts.sys.readFile(file) ?? '', ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS)
    for (const statement of source.statements) {
      const typeOnly = ts.isImportDeclaration(statement) ? statement.importClause?.isTypeOnly : ts.isExportDeclaration(statement) ? statement.isTypeOnly : true
      const specifier = (statement as ts.ImportDeclaration | ts.ExportDeclaration).moduleSpecifier
      if (typeOnly || !specifier || !ts.isStringLiteral(specifier) || !specifier.text.startsWith('.')) continue
      pending.push(fileURLToPath(new URL(specifier.text.replace(/\.js$/, '.ts'), pathToFileURL(file))))
    }
  }
  return seen
}

/**
 * Rewrites `import { a, b } from '@rustic-ts/core'` (and `/internal`) in the files the `starts` load statically
 * (see {@link staticClosure}) into imports from the files that declare `a` and `b`. With code splitting,
 * esbuild puts a module in the chunk of every entry point that reaches it through any import, used or
 * not: through core's barrels, the program's start-up chunk reached all of core (every command, zod),
 * so `--help` loaded and ran it all. Imported directly, only what start-up uses is in its chunks. The
 * files loaded later keep the barrels: every command then loads core in one chunk (deep imports there cut
 * it into dozens of small ones, one per combination of commands, which cost more to resolve and link than
 * they save). The same modules are bundled either way (one copy of each class). A namespace import, or a
 * name declared elsewhere, stays as written. Only relative imports are followed from the `starts`.
 */
export function coreDeepImports(...starts: string[]): Plugin {
  return {
    name: 'core-deep-imports',
    setup(build) {
      let map: Map<string, Map<string, string>> | undefined
      let startup: Set<string> | undefined
      build.onLoad({ filter: /[\\/]packages[\\/][^\\/]+[\\/]src[\\/].*\.ts$/ }, async (args) => {
        startup ??= staticClosure(starts)
        if (!startup.has(args.path)) return undefined
        const text = await readFile(args.path, 'utf8')
        if (!text.includes('@rustic-ts/core')) return undefined
        map ??= coreExportMap()
        const source = ts.createSourceFile(args.path, text, ts.ScriptTarget.ES2022, false, ts.ScriptKind.TS)
        let out = ''
        let at = 0
        for (const statement of source.statements) {
          if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue
          const names = map.get(statement.moduleSpecifier.text)
          const clause = statement.importClause
          const bindings = clause?.namedBindings
          if (!names || !clause || clause.isTypeOnly || clause.name || !bindings || !ts.isNamedImports(bindings)) continue
          const values = bindings.elements.filter((e) => !e.isTypeOnly)
          if (!values.every((e) => names.has((e.propertyName ?? e.name).text))) continue
          const lines = values.map((e) => {
            const imported = (e.propertyName ?? e.name).text
            return `import { ${imported} as ${e.name.text} } from ${JSON.stringify(names.get(imported))};`
          })
          out += text.slice(at, statement.getStart(source)) + lines.join(' ')
          at = statement.end
        }
        if (at === 0) return undefined
        return { contents: out + text.slice(at), loader: 'ts' }
      })
    },
  }
}
