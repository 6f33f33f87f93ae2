import { spawn } from 'node:child_process'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

/**
 * A project outside the monorepo that installs the packed tarballs of every package (as users get them
 * from npm) and type-checks the README's and docs' TypeScript examples against them, with the flags a
 * strict consumer uses. Needs the packages built (`npm run build`); npm's cache holds the dependencies.
 */
const root = fileURLToPath(new URL('../../../../', import.meta.url))
const PACKAGES = ['core', 'backend-local', 'backend-rest', 'backend-rclone', 'backend-opendal', 'cache', 'backend-testkit', 'rest-server', 'rustic-ts']
const DOCS = ['README.md', ...readdirSync(join(root, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)]

/**
 * Names the examples use without defining them (defined in an earlier example, or standing for the
 * reader's own code): declared here once, so each example compiles on its own.
 */
const CONTEXT = `import type { IndexedRepository, Node, ProgressFactory, Repository, RepositoryBackends, WriteBackend } from 'rustic-ts'
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
}
export {}
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

interface Run {
  code: number | null
  out: string
}

function run(cmd: string, args: string[], cwd: string): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd, env: { ...process.env, npm_config_update_notifier: 'false' } })
    let out = ''
    child.stdout.on('data', (d: Buffer) => (out += d.toString()))
    child.stderr.on('data', (d: Buffer) => (out += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code, out }))
  })
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

describe('a consumer project using the packed packages', () => {
  let dir: string
  /** Example files written into the project -> where they come from (`docs/library.md:42`). */
  const origin = new Map<string, string>()

  beforeAll(async () => {
    for (const p of PACKAGES) {
      if (!existsSync(join(root, 'packages', p, 'dist', 'index.d.ts'))) throw new Error(`packages/${p} is not built: run npm run build first`)
    }
    dir = await mkdtemp(join(tmpdir(), 'rustic-ts-consumer-'))
    const tarballs = join(dir, 'tarballs')
    await mkdir(tarballs)
    const packed = await run('npm', ['pack', '--silent', '--pack-destination', tarballs, ...PACKAGES.map((p) => `./packages/${p}`)], root)
    expect(packed.code, packed.out).toBe(0)
    const project = join(dir, 'project')
    await mkdir(join(project, 'examples'), { recursive: true })
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }))
    const files = (await readdir(tarballs)).map((f) => join(tarballs, f))
    expect(files).toHaveLength(PACKAGES.length)
    // Dependencies come from npm's cache; install scripts (native builds) are not needed to type-check,
    // nor is vitest, the testkit's peer (its types do not import it).
    const installed = await run(
      'npm',
      ['install', '--prefer-offline', '--ignore-scripts', '--legacy-peer-deps', '--no-audit', '--no-fund', ...files, `@types/node@${installedVersion('@types/node')}`],
      project,
    )
    expect(installed.code, installed.out).toBe(0)
    for (const doc of DOCS) {
      for (const { line, code } of tsBlocks(doc)) {
        const name = `examples/${doc.replace(/[/.]/g, '_')}_${line}.ts`
        origin.set(name, `${doc}:${line}`)
        await writeFile(join(project, name), `${code}\nexport {}\n`)
      }
    }
    await writeFile(join(project, 'context.d.ts'), CONTEXT)
    await writeFile(join(project, 'hidden.ts'), HIDDEN)
  }, 180_000)

  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('type-checks every TypeScript example of the README and docs/*.md with tsc --strict, and hides the internals', async () => {
    expect(origin.size).toBeGreaterThanOrEqual(10)
    const project = join(dir, 'project')
    const tsc = join(root, 'node_modules', 'typescript', 'bin', 'tsc')
    const args = ['--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--noEmit', '--types', 'node']
    const r = await run(process.execPath, [tsc, ...args, 'context.d.ts', 'hidden.ts', ...origin.keys()], project)
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
