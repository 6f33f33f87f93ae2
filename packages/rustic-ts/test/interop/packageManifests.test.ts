import { execFile } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { parse } from 'acorn'
import { describe, expect, it } from 'vitest'

/**
 * What each package's built files need from other packages, against what its package.json declares:
 * a package that loads something it does not declare breaks in isolated layouts (pnpm, npm's linked
 * strategy), and one that declares something it never loads makes every install bigger.
 * Runs on the built packages (`npm run build` first).
 */

const PACKAGES = fileURLToPath(new URL('../../..', import.meta.url))
const ROOT = join(PACKAGES, '..')
const execFileP = promisify(execFile)

interface Manifest {
  name: string
  version: string
  license?: string
  keywords?: string[]
  homepage?: string
  bugs?: { url?: string }
  repository?: { type?: string; url?: string; directory?: string }
  engines?: { node?: string }
  bin?: Record<string, string>
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  devDependencies?: Record<string, string>
}

const dirs = readdirSync(PACKAGES).filter((d) => existsSync(join(PACKAGES, d, 'package.json')))
const manifests = new Map(dirs.map((d) => [d, JSON.parse(readFileSync(join(PACKAGES, d, 'package.json'), 'utf8')) as Manifest]))

/** Node built-ins that exist only with the `node:` prefix, which bundlers may strip (`node:sqlite` -> `sqlite`). */
const PREFIX_ONLY = new Set(['sqlite', 'test', 'test/reporters', 'sea'])

/** The package a bare specifier names (`@scope/name/sub` -> `@scope/name`), or undefined for a relative path or a built-in. */
function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith('.') || specifier.startsWith('/') || specifier.startsWith('node:')) return undefined
  if (isBuiltin(specifier) || PREFIX_ONLY.has(specifier)) return undefined
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

type AstNode = { type: string; [k: string]: unknown }

const isNode = (v: unknown): v is AstNode => typeof v === 'object' && v !== null && typeof (v as AstNode).type === 'string'
const stringLiteral = (n: unknown): string | undefined =>
  isNode(n) && n.type === 'Literal' && typeof n['value'] === 'string' ? (n['value'] as string) : undefined
const requireLike = (n: unknown): boolean => isNode(n) && n.type === 'Identifier' && /require/i.test(n['name'] as string)

/**
 * Every specifier a built JavaScript file loads: static and dynamic `import`, `export ... from`, and
 * CommonJS loads (`require('x')`, `require.resolve('x')`, `createRequire(import.meta.url)('x')`) with a
 * string argument, however the bundler renamed `require`.
 */
function jsSpecifiers(code: string): string[] {
  const found: string[] = []
  const visit = (n: unknown): void => {
    if (Array.isArray(n)) return n.forEach(visit)
    if (!isNode(n)) return
    if (n.type === 'ImportDeclaration' || n.type === 'ExportAllDeclaration' || n.type === 'ExportNamedDeclaration' || n.type === 'ImportExpression') {
      const s = stringLiteral(n['source'])
      if (s !== undefined) found.push(s)
    }
    if (n.type === 'CallExpression') {
      const callee = n['callee'] as AstNode
      const s = stringLiteral((n['arguments'] as unknown[])[0])
      const loads =
        requireLike(callee) ||
        (callee.type === 'MemberExpression' && requireLike(callee['object']) && (callee['property'] as AstNode)['name'] === 'resolve') ||
        (callee.type === 'CallExpression' && isNode(callee['callee']) && /createRequire/i.test(String(callee['callee']['name'])))
      if (loads && s !== undefined) found.push(s)
    }
    for (const [k, v] of Object.entries(n)) if (k !== 'type') visit(v)
  }
  visit(parse(code.replace(/^#!.*/, ''), { ecmaVersion: 'latest', sourceType: 'module' }))
  return found
}

/** Specifiers a declaration file refers to (`from 'x'`, `import('x')`, `/// <reference types="x" />`). */
function dtsSpecifiers(code: string): string[] {
  const found: string[] = []
  for (const m of code.matchAll(/\bfrom\s+['"]([^'"]+)['"]|\bimport\s*\(\s*['"]([^'"]+)['"]\s*\)|\bimport\s+['"]([^'"]+)['"]|reference\s+types="([^"]+)"/g)) {
    found.push((m[1] ?? m[2] ?? m[3] ?? m[4])!)
  }
  return found
}

/** The packages the files under `dist/` load (JavaScript) or refer to (declarations), each with a file that does. */
function distImports(dir: string): Map<string, string> {
  const dist = join(PACKAGES, dir, 'dist')
  const imports = new Map<string, string>()
  for (const f of readdirSync(dist, { recursive: true, encoding: 'utf8' })) {
    const code = () => readFileSync(join(dist, f), 'utf8')
    const specifiers = /\.d\.[cm]?ts$/.test(f) ? dtsSpecifiers(code()) : /\.[cm]?js$/.test(f) ? jsSpecifiers(code()) : []
    for (const s of specifiers) {
      const p = packageOf(s)
      if (p !== undefined && !imports.has(p)) imports.set(p, f)
    }
  }
  return imports
}

describe('package manifests', () => {
  it('every package is built', () => {
    for (const d of dirs) expect(existsSync(join(PACKAGES, d, 'dist', 'index.js')), `${d}: run npm run build`).toBe(true)
  })

  for (const [dir, m] of manifests) {
    it(`${m.name} declares exactly the packages its dist/ loads`, () => {
      const imports = distImports(dir)
      imports.delete(m.name) // a package may refer to itself
      const declared = new Set(Object.keys({ ...m.dependencies, ...m.optionalDependencies, ...m.peerDependencies }))
      const undeclared = [...imports].filter(([p]) => !declared.has(p)).map(([p, f]) => `${p} (in dist/${f})`)
      const unused = [...declared].filter((p) => !imports.has(p))
      expect({ undeclared, unused }).toEqual({ undeclared: [], unused: [] })
    })
  }

  it('the libraries bundle no other package: a dependency is loaded from where it is installed, once', () => {
    // esbuild marks each module it bundles with a comment naming its path (`// ../../node_modules/zod/...`).
    // Only the CLI of rustic-ts (dist/cli.js and its chunks) is bundled on purpose.
    const bundled: string[] = []
    for (const dir of dirs) {
      const dist = join(PACKAGES, dir, 'dist')
      const files = dir === 'rustic-ts' ? ['index.js'] : readdirSync(dist).filter((f) => /\.[cm]?js$/.test(f))
      for (const f of files) {
        const m = /^\/\/ (\.\.\/\S+)$/m.exec(readFileSync(join(dist, f), 'utf8'))
        if (m) bundled.push(`${dir}/dist/${f}: ${m[1]}`)
      }
    }
    expect(bundled).toEqual([])
  })

  it('sibling packages are required as ^version, and a dependency has the same range in every package', () => {
    const ranges = new Map<string, Set<string>>()
    const names = new Map([...manifests.values()].map((m) => [m.name, m.version]))
    for (const m of manifests.values()) {
      for (const [p, range] of Object.entries({ ...m.dependencies, ...m.optionalDependencies, ...m.devDependencies })) {
        const sibling = names.get(p)
        if (sibling !== undefined) expect(range, `${m.name} -> ${p}`).toBe(`^${sibling}`)
        else (ranges.get(p) ?? ranges.set(p, new Set()).get(p)!).add(range)
      }
    }
    const differing = [...ranges].filter(([, r]) => r.size > 1).map(([p, r]) => `${p}: ${[...r].join(' vs ')}`)
    expect(differing).toEqual([])
  })

  it('every package names its repository, homepage, issue tracker, keywords, MIT license and the same Node versions as the root', () => {
    const root = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest
    for (const [dir, m] of manifests) {
      expect(m.license, m.name).toBe('MIT')
      expect(m.keywords?.length, m.name).toBeGreaterThan(0)
      expect(m.repository, m.name).toEqual({ type: 'git', url: root.repository?.url, directory: `packages/${dir}` })
      expect(m.homepage, m.name).toMatch(new RegExp(`/packages/${dir}#readme$`))
      expect(m.bugs?.url, m.name).toMatch(/^https:\/\/.+\/issues$/)
      expect(m.engines?.node, m.name).toBe(root.engines?.node)
    }
  })

  it('a command is a committed file (npm links it at install, before a checkout is built), started with the CLI\'s Node flags', async () => {
    for (const [dir, m] of manifests) {
      for (const [name, target] of Object.entries(m.bin ?? {})) {
        const path = join(PACKAGES, dir, target)
        expect(target.startsWith('./dist/'), `${name} must not be a build output`).toBe(false)
        await execFileP('git', ['ls-files', '--error-unmatch', path], { cwd: ROOT })
        expect(statSync(path).mode & 0o111, `${name} is executable`).not.toBe(0)
        const firstLine = (f: string) => readFileSync(f, 'utf8').split('\n')[0]
        expect(firstLine(path)).toBe(firstLine(join(PACKAGES, dir, 'dist', 'cli.js')))
      }
    }
  })

  it('every tarball holds package.json, README.md, the root LICENSE and the built files, without source maps', async () => {
    const { stdout } = await execFileP('npm', ['pack', '--dry-run', '--json', '--workspaces'], { cwd: ROOT, maxBuffer: 16 << 20 })
    const packs = JSON.parse(stdout) as Array<{ name: string; files: Array<{ path: string; size: number }> }>
    expect(packs.map((p) => p.name).sort()).toEqual([...manifests.values()].map((m) => m.name).sort())
    const license = readFileSync(join(ROOT, 'LICENSE'), 'utf8')
    for (const p of packs) {
      const files = p.files.map((f) => f.path)
      expect(files, p.name).toEqual(expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'dist/index.js', 'dist/index.d.ts']))
      expect(files.filter((f) => f.endsWith('.map')), p.name).toEqual([])
      expect(files.filter((f) => !/^(package\.json|README\.md|LICENSE|dist\/.+|bin\/.+)$/.test(f)), p.name).toEqual([])
      const dir = [...manifests].find(([, m]) => m.name === p.name)![0]
      expect(readFileSync(join(PACKAGES, dir, 'LICENSE'), 'utf8'), `${p.name} LICENSE`).toBe(license)
    }
  })
})
