import { execFileSync } from 'node:child_process'
import { appendFileSync } from 'node:fs'
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { homedir, tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Command, Option } from 'commander'
import fc from 'fast-check'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { releaseAllLocks, Repository } from '@rustic-ts/core'
import { buildProgram, runCli } from '../../src/cli/program.js'
import { PASSWORD } from '../helpers/restic.js'
import { CHEAP_KDF } from '../helpers/resticSnapshots.js'

/**
 * Fuzzes the command line: every command of the program (read from commander, so new commands and flags
 * are covered as they come) with random subsets of its flags and of the global ones, and values from
 * pools of valid, edge and malformed ones. Runs the CLI in this process (`runCli`, output captured) on a
 * small repository inside a temporary box, and checks that no case prints a stack trace, a ZodError or a
 * raw error name, exits with anything but 0, 1, 3 or 130, or writes outside the box.
 *
 * The cases come from a fixed seed (set FUZZ_SEED for others; FUZZ_RUNS for more cases).
 */

const RUNS = Number(process.env['FUZZ_RUNS'] ?? 500)
const SEED = Number(process.env['FUZZ_SEED'] ?? 20_260_421)
/** A case taking longer than this counts as hanging. */
const CASE_TIMEOUT_MS = 60_000

let outer: string
let box: string
let work: string
let savedCwd: string
const savedEnv: Record<string, string | undefined> = {}
let homeCacheBefore: string[] | undefined
let realHomeCache: string
let gitStatusBefore: string
const repoRoot = fileURLToPath(new URL('../../../..', import.meta.url))

/** The worktree's changes (a case must not write into the sources). */
function gitStatus(): string {
  try {
    return execFileSync('git', ['status', '--porcelain', '--ignored=no'], { cwd: repoRoot, encoding: 'utf8' })
  } catch {
    return ''
  }
}

async function listOrUndefined(dir: string): Promise<string[] | undefined> {
  return readdir(dir).then((l) => l.sort(), () => undefined)
}

beforeAll(async () => {
  // outer/box: `outer` holds nothing but the box, so a write outside the box shows there
  outer = await mkdtemp(join(tmpdir(), 'rustic-ts-fuzz-'))
  box = join(outer, 'box')
  work = join(box, 'a', 'b', 'work')
  await mkdir(work, { recursive: true })
  await mkdir(join(box, 'src', 'sub'), { recursive: true })
  await writeFile(join(box, 'src', 'a.txt'), 'hello\n')
  await writeFile(join(box, 'src', 'sub', 'b.bin'), Buffer.alloc(70_000, 7))
  await writeFile(join(box, 'pwfile'), PASSWORD + '\n')
  await writeFile(join(box, 'emptyfile'), '')
  await writeFile(join(box, 'excludes'), '*.bin\n[\n# comment\n')
  const repo = await Repository.init({ repository: new LocalBackend(join(box, 'repo')) }, { password: PASSWORD }, { kdf: CHEAP_KDF })
  const indexed = await repo.toIndexed()
  const first = await indexed.backup({ paths: [join(box, 'src')] }, { tags: ['t1'] })
  await indexed.backup({ paths: [join(box, 'src')] }, { host: 'other', label: 'l' })
  const id = first.snapshot.id!
  SNAPSHOTS.push(id, id.slice(0, 8), `${id.slice(0, 8)}:${join(box, 'src')}`, `latest:${join(box, 'src', 'a.txt')}`, `latest:${join(box, 'src')}`)
  const blob = indexed.index.entries('data').next().value![0]
  BLOB_IDS.push(blob, first.snapshot.tree, (await repo.backend.list('index'))[0]!, (await repo.backend.list('key'))[0]!)
  await repo.close()

  realHomeCache = join(homedir(), '.cache', 'rustic-ts')
  homeCacheBefore = await listOrUndefined(realHomeCache)
  gitStatusBefore = gitStatus()
  savedCwd = process.cwd()
  for (const k of ['HOME', 'XDG_CACHE_HOME', 'RUSTIC_PASSWORD', 'RUSTIC_REPOSITORY', 'RUSTIC_PASSWORD_FILE', 'RUSTIC_PASSWORD_COMMAND', 'RUSTIC_DEBUG']) {
    savedEnv[k] = process.env[k]
    delete process.env[k]
  }
  process.env['HOME'] = join(box, 'home')
  process.env['XDG_CACHE_HOME'] = join(box, 'cache-home')
  process.env['RUSTIC_PASSWORD'] = PASSWORD
  process.chdir(work)
}, 120_000)

afterAll(async () => {
  if (savedCwd) process.chdir(savedCwd)
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k]
    else process.env[k] = v
  }
  await releaseAllLocks()
  if (outer) await rm(outer, { recursive: true, force: true })
})

/** Paths, all inside the box (relative ones from `work`, three levels below it). */
const paths = (): string[] => [
  '', '.', '..', '../..', 'x', 'out', 'missing/deeper', join(box, 'src'), join(box, 'src', 'a.txt'), join(box, 'src', 'missing'),
  join(box, 'out'), join(box, 'pwfile'), join(box, 'emptyfile'), join(box, 'excludes'), join(box, 'repo'), join(box, 'serve'), '../../../src',
]
const GENERIC = ['', ' ', '-', '--', '0', '-1', '1', '1.5', 'NaN', 'Infinity', '1e308', '99999999999999999999999', '[', '\\', '*', '**', '%s', 'ü', '😀', 'a b', 'a,b', ',', '=', 'x=y', 'true', 'null', '{}', 'latest']
/** Snapshot strings (ids of the box's repository added in `beforeAll`). */
const SNAPSHOTS = ['latest', 'latest~1', 'latest~99', 'latest~-1', 'deadbeef', 'zz', '0', 'latest:/', 'latest:/nope', 'latest:..']
const DURATIONS = ['1d', '30s', '5m', '1h30m', '0', '99999999999999d', '-1d', 'soon', '1y5m7d2h', '1.5h', '']
const TIMES = ['2024-01-01', '2024-13-45', 'yesterday', '1970-01-01 00:00', '9999-12-31', '2024-01-01T00:00:00Z', '']
const SIZES = ['1k', '1G', '99999999999999999999999T', '-5', '1.5M', 'abc', '0', '']
const COUNTS = ['0', '1', '2', '-1', '-2', '1.5', 'x', '', '99999999999999999999']
/** Ids of files and blobs of the box's repository (added in `beforeAll`). */
const BLOB_IDS: string[] = []
const TYPES = ['config', 'key', 'snapshot', 'index', 'blob', 'tree', 'pack', 'packs', 'snapshots', 'keys', 'locks', 'blobs', 'x', '']
const PATTERNS = ['*.txt', 'a.txt', '/', '[', '\\', '**', 'sub/*', '!x', '*']
const COMMANDS = ['echo hello', 'false', 'true', 'rustic-ts-no-such-command-xyz', '', 'printf ""']
const LISTEN = ['127.0.0.1:0', 'x', ':99999', '[::1]:0', '', '127.0.0.1:-1']

/** The value pool of a flag, by its name. */
function pool(flag: string): string[] {
  const f = flag.replace(/^--/, '')
  if (/password-command|stdin-command|warm-up-command/.test(f)) return COMMANDS
  if (/retry-lock/.test(f)) return ['0', '1s', 'x', '-1s', '', '0.1s']
  if (/listen/.test(f)) return LISTEN
  if (/compression/.test(f)) return ['off', 'auto', 'max', '3', '1.5', '', 'x', '23', '-131073', '0']
  if (/size|larger-than/.test(f)) return SIZES
  if (/delete-after|within|duration/.test(f)) return DURATIONS
  if (/after|before|time|newest|oldest/.test(f)) return TIMES
  if (/^keep-(?!tag|id|none)|latest|repository-version|max-|min-|subset|limit|n$/.test(f)) return [...COUNTS, '1/3', '50%', '2/1', '0/0']
  if (/target|path|dir|file|log|tls-cert|tls-key|htpasswd|config|repo/.test(f)) return paths()
  if (/group-by/.test(f)) return ['host', 'paths', 'tags', 'label', 'host,paths', 'x', '', 'host,,']
  if (/opendal/.test(f)) return ['root=/nope', 'x', '=y', 'k=', 'retry-timeout=1s', 'retries=x']
  return GENERIC
}

/** The value pool of a positional argument, by its name. */
function argPool(name: string): string[] {
  if (/type/.test(name)) return TYPES
  if (/snapshot/.test(name)) return [...SNAPSHOTS, ...GENERIC.slice(0, 6)]
  if (/pattern/.test(name)) return PATTERNS
  if (/path/.test(name)) return [...paths(), ...SNAPSHOTS.slice(-3)]
  if (/id/.test(name)) return [...BLOB_IDS, ...SNAPSHOTS, ...GENERIC.slice(0, 6)]
  return [...SNAPSHOTS, ...paths(), ...BLOB_IDS, ...GENERIC]
}

/** A leaf command (with its path of names) and what it takes. */
interface Leaf {
  names: string[]
  options: Option[]
  args: Array<{ name: string; required: boolean; variadic: boolean }>
}

function leaves(cmd: Command, names: string[] = []): Leaf[] {
  if (cmd.commands.length > 0) return cmd.commands.flatMap((c) => leaves(c, [...names, c.name()]))
  return [{ names, options: cmd.options as Option[], args: cmd.registeredArguments.map((a) => ({ name: a.name(), required: a.required, variadic: a.variadic })) }]
}

/** The positional arguments of a leaf: its declared ones (optional ones sometimes left out, variadic ones 0-3 times), sometimes one too many. */
function positionalArb(leaf: Leaf): fc.Arbitrary<string[]> {
  const parts = leaf.args.map((a) => {
    const one = fc.constantFrom(...argPool(a.name))
    if (a.variadic) return fc.array(one, { minLength: a.required ? 1 : 0, maxLength: 3 })
    return a.required ? one.map((v) => [v]) : fc.option(one.map((v) => [v]), { freq: 3 }).map((v) => v ?? [])
  })
  const extra = fc.oneof({ weight: 8, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.constantFrom(...GENERIC).map((v) => [v]) })
  return fc.tuple(fc.tuple(...parts), extra).map(([p, e]) => [...p.flat(), ...e])
}

/** Flags that are not fuzzed: `--stdin` reads this process's standard input. */
const SKIPPED_FLAGS = new Set(['--stdin'])

/** `[flag]` or `[flag, value]` for one option. */
function optionArb(o: Option): fc.Arbitrary<string[]> {
  const flag = o.long ?? o.short!
  if (!o.required && !o.optional) return fc.constant([flag])
  return fc.constantFrom(...pool(flag)).map((v) => [flag, v])
}

/** A command line and the command it runs. */
interface Case {
  command: string
  args: string[]
}

function caseArb(program: Command): fc.Arbitrary<Case> {
  const globals = (program.options as Option[]).filter((o) => o.long !== '--repo')
  const all = leaves(program).filter((l) => l.names.length > 0)
  return fc.constantFrom(...all).chain((leaf) => {
    const options = leaf.options.filter((o) => !SKIPPED_FLAGS.has(o.long ?? '') && !o.mandatory)
    const mandatory = leaf.options.filter((o) => o.mandatory)
    return fc
      .tuple(
        fc.oneof({ weight: 6, arbitrary: fc.constant(join(box, 'repo')) }, { weight: 1, arbitrary: fc.constantFrom(...paths(), `local:${join(box, 'repo')}`) }),
        fc.subarray(globals, { maxLength: Math.min(3, globals.length) }).chain((os) => (os.length === 0 ? fc.constant([] as string[][]) : fc.tuple(...os.map(optionArb)))),
        fc.subarray(options, { maxLength: Math.min(4, options.length) }).chain((os) => (os.length === 0 ? fc.constant([] as string[][]) : fc.tuple(...os.map(optionArb)))),
        mandatory.length === 0 ? fc.constant([] as string[][]) : fc.tuple(...mandatory.map((o) => fc.option(optionArb(o), { freq: 12 }).map((v) => v ?? []))),
        positionalArb(leaf),
        fc.boolean(),
      )
      .map(([repo, g, o, m, pos, flagsFirst]) => {
        const flags = [...m.flat(), ...o.flat()]
        return {
          command: leaf.names.join(' '),
          args: ['-r', repo, '--no-progress', ...g.flat(), ...leaf.names, ...(flagsFirst ? [...flags, ...pos] : [...pos, ...flags])],
        }
      })
  })
}

interface Outcome {
  code: number
  stdout: string
  stderr: string
}

/** Runs the CLI in this process with its output captured; stops a server it starts once it listens. */
async function runCase(args: string[]): Promise<Outcome> {
  const out: string[] = []
  const err: string[] = []
  const write = process.stdout.write
  const writeErr = process.stderr.write
  const sigtermBefore = new Set(process.listeners('SIGTERM'))
  const capture =
    (into: string[]) =>
    (chunk: unknown, enc?: unknown, cb?: unknown): boolean => {
      into.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8'))
      const done = typeof enc === 'function' ? enc : cb
      if (typeof done === 'function') queueMicrotask(() => (done as () => void)())
      if (into === err && into[into.length - 1]!.includes('rustic-ts serve: serving')) {
        // a server that started: stop it as Ctrl-C would (only the server's own handlers)
        setImmediate(() => {
          for (const l of process.listeners('SIGTERM')) if (!sigtermBefore.has(l)) (l as () => void)()
        })
      }
      return true
    }
  process.stdout.write = capture(out) as typeof process.stdout.write
  process.stderr.write = capture(err) as typeof process.stderr.write
  process.exitCode = 0
  let timer: ReturnType<typeof setTimeout> | undefined
  try {
    await mkdir(work, { recursive: true }) // a restore with delete may have removed it
    const code = await Promise.race([
      runCli(['node', 'rustic-ts', ...args]),
      new Promise<number>((resolve) => (timer = setTimeout(() => resolve(-1), CASE_TIMEOUT_MS))),
    ])
    const exit = code || Number(process.exitCode ?? 0) || 0
    return { code: exit, stdout: out.join(''), stderr: err.join('') + (code === -1 ? `\n[the case did not end within ${CASE_TIMEOUT_MS} ms]` : '') }
  } finally {
    clearTimeout(timer)
    process.stdout.write = write
    process.stderr.write = writeErr
    process.exitCode = 0
  }
}

/** Appends to the log file named by FUZZ_LOG (to see what the cases do). */
function writeLog(line: string): void {
  appendFileSync(process.env['FUZZ_LOG']!, line)
}

/** What is wrong with an outcome, or undefined. */
function problem(o: Outcome): string | undefined {
  if (![0, 1, 3, 130].includes(o.code)) return `exit code ${o.code}`
  if (/^\s+at \S/m.test(o.stderr)) return 'a stack trace'
  if (/ZodError/.test(o.stderr + o.stdout)) return 'a ZodError'
  if (/rustic-ts: error: [A-Z][A-Za-z]*Error: /.test(o.stderr)) return 'a raw error (not a RusticError)'
  if (/\bundefined\b|\[object Object\]/.test(o.stderr)) return '"undefined" or "[object Object]" in a message'
  return undefined
}

describe('CLI fuzzing', () => {
  it(`${RUNS} random command lines: no stack trace, ZodError or raw error, exit code 0/1/3/130, no write outside the box`, async () => {
    const program = buildProgram()
    const seen = new Set<string>()
    const failures: string[] = []
    await fc.assert(
      fc.asyncProperty(caseArb(program), async ({ command, args }) => {
        seen.add(command)
        const o = await runCase(args)
        const why = problem(o)
        if (process.env['FUZZ_LOG']) writeLog(`${o.code} ${JSON.stringify(args)}\n  ${o.stderr.trim().split('\n').slice(-2).join('\n  ')}\n`)
        if (why) failures.push(`${why}: rustic-ts ${JSON.stringify(args)}\n${o.stderr.slice(0, 2000)}`)
        return why === undefined
      }),
      { numRuns: RUNS, seed: SEED, endOnFailure: true },
    ).catch((e: unknown) => {
      throw new Error(`${failures.join('\n\n')}\n\n${(e as Error).message.split('\n').slice(0, 4).join('\n')}`)
    })
    // nothing written outside the box: next to it, in the worktree, in the real home's cache
    expect(await readdir(outer)).toEqual(['box'])
    expect(gitStatus()).toBe(gitStatusBefore)
    expect(await listOrUndefined(realHomeCache)).toEqual(homeCacheBefore)
    // every command was run
    expect([...seen].sort()).toEqual(leaves(program).map((l) => l.names.join(' ')).filter((n) => n !== '').sort())
  }, 1_200_000)
})
