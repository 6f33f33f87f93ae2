import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

/**
 * What the built CLI loads before it runs a command (needs `npm run build`): each command's action is a chunk
 * of its own, imported when the command runs, and the files are ASCII (V8 keeps a file with one other
 * character as a two-byte string: twice the memory for its source).
 */
const dist = fileURLToPath(new URL('../../dist/', import.meta.url))
const read = (name: string): string => readFileSync(dist + name, 'utf8')

/** The files `name` imports statically (`import ... from "./x.js"`, `import "./x.js"`), and theirs. */
function staticClosure(name: string, seen = new Set<string>()): Set<string> {
  if (seen.has(name)) return seen
  seen.add(name)
  for (const m of read(name).matchAll(/^\s*(?:import|export)\s(?:[^'"]*?\sfrom\s)?["'](\.\/[^"']+)["'];?$/gm)) staticClosure(m[1]!.slice(2), seen)
  return seen
}

/** The source files esbuild put into a built file (it heads each with a `// path` comment). */
const sourcesOf = (name: string): string[] => [...read(name).matchAll(/^\/\/ (\S+\.ts)$/gm)].map((m) => m[1]!)

describe('start-up loading of the built CLI', () => {
  it('is built', () => {
    expect(existsSync(dist + 'cli.js'), 'run npm run build').toBe(true)
  })

  it('loads no command action at start: each is in a chunk imported when its command runs', () => {
    const start = [...staticClosure('cli.js')]
    const loaded = start.flatMap(sourcesOf)
    expect(loaded.filter((s) => /\.action\.ts$/.test(s))).toEqual([])
    // and the program itself (command definitions) is there, behind the one dynamic import of cli.js
    const main = /import\("\.\/(main-[^"]+\.js)"\)/.exec(read('cli.js'))?.[1]
    expect(main).toBeDefined()
    const program = [...staticClosure(main!)].flatMap(sourcesOf)
    expect(program).toContain('src/cli/program.ts')
    expect(program.filter((s) => /\.action\.ts$/.test(s))).toEqual([])
    const actions = readdirSync(dist).filter((f) => f.endsWith('.js')).flatMap(sourcesOf).filter((s) => /\.action\.ts$/.test(s))
    expect(actions).toContain('src/cli/commands/backup.action.ts')
    expect(actions).toContain('src/cli/commands/cat.action.ts')
  })

  it("runs only the early key derivation (Node built-ins and core's scrypt files) before it imports the program", () => {
    const start = [...staticClosure('cli.js')]
    expect([...new Set(start.flatMap(sourcesOf))].sort()).toEqual([
      '../core/src/crypto/scryptBytes.ts',
      '../core/src/crypto/scryptInWorkers.ts',
      '../core/src/crypto/scryptRomixWasm.ts',
      '../core/src/error/RusticError.ts',
      '../core/src/workers/WorkerPool.ts',
      '../core/src/workers/workerUrl.ts',
      'src/cli.ts',
      'src/cli/earlyKey/earlyKeyDerivation.ts',
      'src/cli/earlyKey/earlyKeyTarget.ts',
    ])
    const packages = start.flatMap((name) => [...read(name).matchAll(/^import\s[^'"]*?["']([^."'][^"']*)["'];?$/gm)].map((m) => m[1]!))
    expect(packages.filter((p) => !['crypto', 'fs', 'module', 'os', 'path', 'v8', 'worker_threads'].includes(p.replace(/^node:/, '')))).toEqual([])
  })

  it('loads neither zod nor the repository and commands of core before a command runs (--help, usage errors)', () => {
    const main = /import\("\.\/(main-[^"]+\.js)"\)/.exec(read('cli.js'))![1]!
    const start = [...staticClosure(main)].flatMap((name) => [...read(name).matchAll(/^\/\/ (\S+\.[cm]?[jt]s)$/gm)].map((m) => m[1]!))
    expect(start).toContain('src/cli/program.ts')
    expect(start).toContain('../core/src/error/RusticError.ts')
    expect(start.filter((s) => /[\\/]zod[\\/]|core\/src\/(?!repository\/lock\/lockRegistry|commands\/backup\/programVersion)(repository|commands|archiver|blob|index)\//.test(s))).toEqual([])
  })

  it('writes every built CLI and worker file in ASCII', () => {
    const files = readdirSync(dist).filter((f) => f.endsWith('.js') && f !== 'index.js')
    expect(files.length).toBeGreaterThan(5)
    for (const f of files) expect(/[^\x00-\x7f]/.exec(read(f))?.[0], f).toBeUndefined()
  })
})
