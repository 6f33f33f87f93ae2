import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * Projects outside the monorepo that install the packed tarballs of every package, as users get them from
 * npm, in three ways: npm's default (hoisted node_modules, install scripts run), `--install-strategy=linked`
 * (isolated like pnpm's: a package sees only what it declares) and `--ignore-scripts` (no native build:
 * zstd-napi is missing). In each, the installed `rustic-ts` command backs up and restores with compression,
 * every package loads with `import` and `require`, and the TypeScript examples of the READMEs and docs
 * type-check with the flags a strict consumer uses. Needs the packages built (`npm run build`); npm's
 * cache holds the dependencies (`--prefer-offline`).
 */
const root = fileURLToPath(new URL('../../../../', import.meta.url))
const PACKAGES = ['core', 'backend-local', 'backend-rest', 'backend-rclone', 'backend-opendal', 'cache', 'backend-testkit', 'rest-server', 'rustic-ts']
/** Every import path a consumer may load. */
const ENTRY_POINTS = [
  'rustic-ts',
  '@rustic-ts/core',
  '@rustic-ts/core/internal',
  ...PACKAGES.filter((p) => p !== 'core' && p !== 'rustic-ts').map((p) => `@rustic-ts/${p}`),
]
const DOCS = [
  'README.md',
  ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`),
  ...PACKAGES.map((p) => `packages/${p}/README.md`),
]

/** Node's own zstd is there from 22.15 (and 23.8). */
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number]
const nodeHasZstd = (major === 22 && minor >= 15) || (major === 23 && minor >= 8) || major >= 24

const LAYOUTS = [
  { name: 'npm default', args: [] as string[], scripts: true },
  { name: 'npm linked (isolated)', args: ['--install-strategy=linked'], scripts: true },
  { name: 'npm --ignore-scripts', args: ['--ignore-scripts'], scripts: false },
]

/**
 * Names the examples use without defining them (defined in an earlier example, or standing for the
 * reader's own code): declared here once, so each example compiles on its own.
 */
const CONTEXT = `import type { Id, IndexedRepository, Node, ProgressFactory, Repository, RepositoryBackends, WriteBackend } from 'rustic-ts'
import type { IncomingMessage, ServerResponse } from 'node:http'
declare global {
  const repo: Repository
  const indexed: IndexedRepository
  const backends: RepositoryBackends
  const node: Node
  const progress: ProgressFactory
  const password: string
  const url: string
  const myBackend: WriteBackend
  const MyBackend: new (url?: string) => WriteBackend
  function startMyTestServer(): Promise<{ url: string; stop(): Promise<void> }>
  const remote: WriteBackend
  const repoConfigId: string
  const blobId: Id
  const data: Uint8Array
  const app: { use(path: string, handler: (req: IncomingMessage, res: ServerResponse) => void): void }
  function checkUser(user: string, password: string): boolean
}
export {}
`

/** The reader's backend module that the backend testkit's README imports (`../src/MyBackend.js`). */
const MY_BACKEND = `import type { WriteBackend } from 'rustic-ts'
export declare const MyBackend: new (dir: string) => WriteBackend
`

/** What must not compile: the repository's internals are not in the published types. */
const HIDDEN = `import type { IndexedRepository, Repository } from 'rustic-ts'
import { Packer } from '@rustic-ts/core/internal'
declare const r: Repository
declare const i: IndexedRepository
// @ts-expect-error internal
void r.dbe
// @ts-expect-error internal
void r.backend
// @ts-expect-error internal
void r.options
// @ts-expect-error internal
void r.control
// @ts-expect-error internal
void r.warmUpPacks
// @ts-expect-error internal
void i.repo
// @ts-expect-error internal
void i.index
// @ts-expect-error internal
void i.locate
void Packer
`

/** Loads every entry point with `require` and with `import`; prints how many names each gave and whether they agree. */
const LOAD_ALL = `const entries = ${JSON.stringify(ENTRY_POINTS)}
const names = (m) => Object.keys(m).filter((k) => k !== 'default' && k !== 'module.exports').sort()
;(async () => {
  const out = {}
  for (const e of entries) {
    const required = names(require(e))
    const imported = names(await import(e))
    out[e] = { required: required.length, imported: imported.length, same: JSON.stringify(required) === JSON.stringify(imported) }
  }
  console.log(JSON.stringify(out))
})()
`

/** Prints the zstd implementation in use where the project installed it. */
const ZSTD = `import('@rustic-ts/core').then((c) => console.log(c.zstdProvider().name))
`

interface Run {
  code: number | null
  out: string
}

function run(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false', ...env } })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out }))
  })
}

async function ok(cmd: string, args: string[], cwd: string, env: Record<string, string> = {}): Promise<string> {
  const r = await run(cmd, args, cwd, env)
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${r.code}):\n${r.out}`)
  return r.out
}

/** The ```ts blocks of a markdown file, with the line each starts on. */
function tsBlocks(file: string): Array<{ line: number; code: string }> {
  const blocks: Array<{ line: number; code: string }> = []
  let current: { line: number; lines: string[] } | undefined
  readFileSync(join(root, file), 'utf8')
    .split('\n')
    .forEach((text, i) => {
      if (!current && /^```ts\s*$/.test(text)) current = { line: i + 2, lines: [] }
      else if (current && /^```\s*$/.test(text)) {
        blocks.push({ line: current.line, code: current.lines.join('\n') })
        current = undefined
      } else current?.lines.push(text)
    })
  return blocks
}

const installedVersion = (pkg: string): string =>
  (JSON.parse(readFileSync(join(root, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version

/** Total size of the files below `dir` (directories not counted). */
async function filesSize(dir: string): Promise<number> {
  let n = 0
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) if (e.isFile()) n += (await stat(join(e.parentPath, e.name))).size
  return n
}

/** ~570 KiB of text made of a few words: compresses about 6:1. */
function compressibleText(): string {
  const words = ['alpha', 'beta', 'gamma', 'delta', 'restic', 'backup', 'zstd', 'node', 'layout', 'package']
  let seed = 7
  const lines: string[] = []
  for (let i = 0; i < 8000; i++) {
    const line: string[] = []
    for (let j = 0; j < 12; j++) line.push(words[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % words.length]!)
    lines.push(line.join(' '))
  }
  return lines.join('\n')
}

let dir: string
let tarballs: string[]
/** Install environment: where zstd-napi's install script finds its binary (see beforeAll). */
const installEnv: Record<string, string> = {}

beforeAll(async () => {
  for (const p of PACKAGES) {
    if (!existsSync(join(root, 'packages', p, 'dist', 'index.d.ts'))) throw new Error(`packages/${p} is not built: run npm run build first`)
  }
  dir = await mkdtemp(join(tmpdir(), 'rustic-ts-consumer-'))
  const packDir = join(dir, 'tarballs')
  await mkdir(packDir)
  await ok('npm', ['pack', '--silent', '--pack-destination', packDir, ...PACKAGES.map((p) => `./packages/${p}`)], root)
  tarballs = (await readdir(packDir)).map((f) => join(packDir, f))
  expect(tarballs).toHaveLength(PACKAGES.length)
  // zstd-napi's install script downloads its binary from GitHub (and compiles it when that fails, a minute
  // or more). A machine running the tests may have no network: the download is served from a local copy
  // of the binary the workspace's own install made (the file GitHub would give), as prebuild-install allows.
  const binding = join(root, 'node_modules', 'zstd-napi', 'build', 'Release', 'binding.node')
  if (existsSync(binding)) {
    const version = installedVersion('zstd-napi')
    const prebuilds = join(dir, 'prebuilds')
    await mkdir(join(prebuilds, 'build', 'Release'), { recursive: true })
    await writeFile(join(prebuilds, 'build', 'Release', 'binding.node'), await readFile(binding))
    await ok('tar', ['czf', `zstd-napi-v${version}-napi-v8-${process.platform}-${process.arch}.tar.gz`, 'build'], prebuilds)
    installEnv['npm_config_zstd_napi_local_prebuilds'] = prebuilds
  }
}, 120_000)

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
})

describe.each(LAYOUTS)('a consumer project installing the packed packages: $name', ({ name, args, scripts }) => {
  let project: string
  /** Example files written into the project -> where they come from (`docs/library.md:42`). */
  const origin = new Map<string, string>()

  beforeAll(async () => {
    project = join(dir, name.replace(/\W+/g, '-'))
    await mkdir(join(project, 'examples'), { recursive: true })
    await mkdir(join(project, 'src'))
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
    await ok(
      'npm',
      ['install', '--prefer-offline', '--no-audit', '--no-fund', ...args, ...tarballs, `@types/node@${installedVersion('@types/node')}`],
      project,
      installEnv,
    )
    for (const doc of DOCS) {
      for (const { line, code } of tsBlocks(doc)) {
        const file = `examples/${doc.replace(/[/.]/g, '_')}_${line}.ts`
        origin.set(file, `${doc}:${line}`)
        await writeFile(join(project, file), `${code}\nexport {}\n`)
      }
    }
    await writeFile(join(project, 'context.d.ts'), CONTEXT)
    await writeFile(join(project, 'hidden.ts'), HIDDEN)
    await writeFile(join(project, 'src', 'MyBackend.ts'), MY_BACKEND)
    await writeFile(join(project, 'loadAll.cjs'), LOAD_ALL)
    await writeFile(join(project, 'zstd.cjs'), ZSTD)
  }, 300_000)

  it('the layout is the one asked for', () => {
    const linked = args.includes('--install-strategy=linked')
    expect(existsSync(join(project, 'node_modules', '@noble')), 'dependencies hoisted to the top').toBe(!linked)
    if (!scripts) expect(existsSync(join(project, 'node_modules', 'zstd-napi', 'build')), 'zstd-napi built').toBe(false)
  })

  it('the rustic-ts command inits, backs up a compressible file stored compressed, and restores it identically', async () => {
    const work = join(project, 'work')
    await mkdir(join(work, 'src'), { recursive: true })
    const text = compressibleText()
    const file = join(work, 'src', 'notes.txt')
    await writeFile(file, text)
    const cli = join(project, 'node_modules', '.bin', 'rustic-ts')
    const repo = join(work, 'repo')
    const env = { RUSTIC_PASSWORD: 'consumer-password', XDG_CACHE_HOME: join(work, 'cache') }
    await ok(cli, ['-r', repo, 'init'], project, env)
    await ok(cli, ['-r', repo, 'backup', file], project, env)
    expect(await filesSize(repo)).toBeLessThan(text.length / 3)
    await ok(cli, ['-r', repo, 'restore', 'latest', '--target', join(work, 'target')], project, env)
    expect(await readFile(join(work, 'target', file), 'utf8')).toBe(text)
    // the zstd in use: Node's own, else zstd-napi where its install script ran, else the prebuilt package
    const zstd = (await ok(process.execPath, ['zstd.cjs'], project)).trim()
    if (nodeHasZstd) expect(zstd).toBe('node:zlib')
    else if (!scripts) expect(zstd).toBe('@toondepauw/node-zstd')
    else expect(['zstd-napi', '@toondepauw/node-zstd']).toContain(zstd)
  }, 120_000)

  it('every package loads with import and with require (Node >= 20.19 / 22.12 require ES modules)', async () => {
    const loaded = JSON.parse(await ok(process.execPath, ['loadAll.cjs'], project)) as Record<string, { required: number; imported: number; same: boolean }>
    expect(Object.keys(loaded)).toEqual(ENTRY_POINTS)
    for (const [entry, l] of Object.entries(loaded)) {
      expect(l.required, entry).toBeGreaterThan(0)
      expect(l.same, `${entry}: require and import give the same names`).toBe(true)
    }
  }, 60_000)

  it('type-checks every TypeScript example of the READMEs and docs/*.md with tsc --strict --module nodenext, and hides the internals', async () => {
    expect(origin.size).toBeGreaterThanOrEqual(20)
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    // The published declaration files are checked whole (their own imports included: a type package missing
    // in an isolated layout would show) in the linked layout, where a package sees the least; the other two
    // layouts hold the same files and resolve more, so there only the examples are checked (a third of the time).
    const libCheck = args.includes('--install-strategy=linked') ? [] : ['--skipLibCheck']
    const flags = [...libCheck, '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--noEmit', '--types', 'node']
    const r = await run(process.execPath, [tsc, ...flags, 'context.d.ts', 'hidden.ts', ...origin.keys()], project)
    // Point each error at the markdown line it comes from.
    const report = r.out.replace(/examples\/\S+?\.ts\((\d+),(\d+)\)/g, (m, l: string) => {
      const file = m.slice(0, m.indexOf('('))
      const [doc, start] = origin.get(file)!.split(':')
      return `${doc}:${Number(start) + Number(l) - 1}`
    })
    expect(report.trim(), report).toBe('')
    expect(r.code).toBe(0)
  }, 120_000)
})
