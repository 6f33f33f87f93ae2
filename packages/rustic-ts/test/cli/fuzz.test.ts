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
 * The cases come from a fixed seed (set FUZZ_SEED for others; FUZZ_RUNS for more random cases).
 */

/**
 * Cases: one about each flag of each command first (about 300), then random ones (each about a random flag
 * of a random command, with other flags around it): at least 100, and at least 500 cases in all.
 */
const RANDOM_RUNS = Number(process.env['FUZZ_RUNS'] ?? 100)
const MIN_CASES = 500
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
  const repo = await Repository.init({}, { repository: new LocalBackend(join(box, 'repo')) }, { password: PASSWORD }, { kdf: CHEAP_KDF })
  const indexed = await repo.toIndexed()
  const first = await indexed.backup(join(box, 'src'), { tags: ['t1'] })
  await indexed.backup(join(box, 'src'), { host: 'other', label: 'l' })
  const id = first.snapshot.id!
  SNAPSHOTS.good.push(id, id.slice(0, 8), `${id.slice(0, 8)}:${join(box, 'src')}`, `latest:${join(box, 'src', 'a.txt')}`, `latest:${join(box, 'src')}`)
  const blob = indexed.index.entries('data').next().value![0]
  IDS.good.push(blob, first.snapshot.tree, (await repo.backend.list('index'))[0]!, (await repo.backend.list('key'))[0]!, id)
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

/** Values a flag or argument gets: `good` ones make sense for it, `bad` ones are malformed or out of range. */
interface Pool {
  good: string[]
  bad: string[]
}

/** Paths, all inside the box (relative ones from `work`, three levels below it). */
const goodPaths = (): string[] => [join(box, 'src'), join(box, 'src', 'a.txt'), join(box, 'out'), 'out', '../../../src']
const badPaths = (): string[] => ['', '.', '..', '../..', 'missing/deeper', join(box, 'src', 'missing'), join(box, 'pwfile'), join(box, 'emptyfile'), join(box, 'excludes'), join(box, 'repo')]
const GENERIC = ['', ' ', '-', '--', '0', '-1', '1.5', 'NaN', 'Infinity', '1e308', '99999999999999999999999', '[', '\\', '*', '%s', 'ü', '😀', 'a b', ',', '=', 'x=y', '{}']
/** Snapshot strings (ids of the box's repository are added in `beforeAll`). */
const SNAPSHOTS: Pool = { good: ['latest', 'latest~1', 'latest:/'], bad: ['latest~99', 'latest~-1', 'deadbeef', 'zz', '0', 'latest:/nope', 'latest:..', '', ':', 'latest~'] }
/** Ids of files and blobs of the box's repository (added in `beforeAll`). */
const IDS: Pool = { good: [], bad: ['deadbeef', 'zz', '0'.repeat(64), '', 'latest'] }
const POOLS: Array<[RegExp, () => Pool]> = [
  [/^password-command/, () => ({ good: [`cat ${join(box, 'pwfile')}`], bad: ['echo wrong', 'false', 'rustic-ts-no-such-command-xyz', '', 'printf ""', '"unclosed'] })],
  [/password-file/, () => ({ good: [join(box, 'pwfile')], bad: [join(box, 'emptyfile'), join(box, 'src'), 'missing', ''] })],
  [/stdin-command|warm-up-command/, () => ({ good: ['echo hello'], bad: ['false', 'rustic-ts-no-such-command-xyz', '', 'printf ""', '"unclosed'] })],
  [/retry-lock/, () => ({ good: ['0', '1s'], bad: ['x', '-1s', '', '1e400s'] })],
  [/listen/, () => ({ good: ['127.0.0.1:0'], bad: ['x', ':99999', '', '127.0.0.1:-1', '[::1'] })],
  [/compression/, () => ({ good: ['off', 'auto', 'max', '3', '0'], bad: ['1.5', '', 'x', '23', '-131073', ' 3'] })],
  [/size|larger-than/, () => ({ good: ['1k', '1G', '1.5M'], bad: ['99999999999999999999999T', '-5', 'abc', '', '1e400'] })],
  [/delete-after|within|duration/, () => ({ good: ['1d', '30s', '1h30m', '1y5m7d2h', '2030-01-01'], bad: ['99999999999999d', '-1d', 'soon', '', '0', '1.5.5h'] })],
  [/after|before|time|newest|oldest/, () => ({ good: ['2024-01-01', '2024-01-01T00:00:00Z', '1970-01-01 00:00'], bad: ['2024-13-45', 'yesterday', '', '99999-01-01', '0000-00-00'] })],
  [/^keep-(?!tag|id|none)|latest$|repository-version|max-|min-|subset|limit|^n$/, () => ({ good: ['0', '1', '2', '-1', '1/3', '50%'], bad: ['-2', '1.5', 'x', '', '99999999999999999999', '2/1', '0/0', '101%'] })],
  [/target|path|dir|file|log|tls-cert|tls-key|htpasswd|config|repo/, () => ({ good: goodPaths(), bad: badPaths() })],
  [/group-by/, () => ({ good: ['host', 'paths', 'tags', 'label', 'host,paths', ''], bad: ['x', 'host,,', ',', 'host,x'] })],
  [/opendal|^option$/, () => ({ good: ['retries=0'], bad: ['root=/nope', 'x', '=y', 'k=', 'retry-timeout=x', 'retries=x', 'retries=-1'] })],
  [/host|label|tag|description|keep-id/, () => ({ good: ['h', 'other', 't1', 'a,b', 'l'], bad: GENERIC })],
]

/** The values of a flag, by its name. */
function flagPool(flag: string): Pool {
  const f = flag.replace(/^-+/, '')
  for (const [re, pool] of POOLS) if (re.test(f)) return pool()
  return { good: ['x'], bad: GENERIC }
}

/** The values of a positional argument, by its name. */
function argPool(name: string): Pool {
  if (/type/.test(name)) return { good: ['config', 'key', 'snapshot', 'index', 'blob', 'tree', 'packs', 'snapshots', 'keys', 'locks', 'blobs'], bad: ['x', '', 'pack', 'lock'] }
  if (/snapshot/.test(name)) return SNAPSHOTS
  if (/pattern/.test(name)) return { good: ['*.txt', 'a.txt', '/', 'sub/*', '*'], bad: ['[', '\\', '**/[', ''] }
  if (/path/.test(name)) return { good: goodPaths(), bad: badPaths() }
  if (/id/.test(name)) return IDS
  return { good: [...SNAPSHOTS.good, ...IDS.good], bad: GENERIC }
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

/** Global flags given besides the one a case is about. */
const SAFE_GLOBALS = new Set(['--json', '--no-cache', '--no-lock', '--cache-dir', '--retry-lock', '--password-file', '--password-command'])

/** Flags that are not fuzzed: `--stdin` reads this process's standard input. */
const SKIPPED_FLAGS = new Set(['--stdin'])

/** A value of a pool: good ones mostly, unless `bad` (then bad ones mostly). */
function valueArb(p: Pool, bad = false): fc.Arbitrary<string> {
  const good = p.good.length > 0 ? fc.constantFrom(...p.good) : fc.constantFrom(...p.bad)
  return fc.oneof({ weight: bad ? 1 : 6, arbitrary: good }, { weight: bad ? 4 : 1, arbitrary: fc.constantFrom(...p.bad) })
}

/** `[flag]` or `[flag, value]` for one option. */
function optionArb(o: Option, bad = false): fc.Arbitrary<string[]> {
  const flag = o.long ?? o.short!
  if (!o.required && !o.optional) return fc.constant([flag])
  return valueArb(flagPool(flag), bad).map((v) => [flag, v])
}

/** The positional arguments of a leaf: its declared ones (optional ones sometimes left out, variadic ones 0-3 times), seldom one too many. */
function positionalArb(leaf: Leaf): fc.Arbitrary<string[]> {
  const parts = leaf.args.map((a) => {
    const one = valueArb(argPool(a.name))
    if (a.variadic) return fc.oneof({ weight: a.required ? 0 : 1, arbitrary: fc.constant([] as string[]) }, { weight: 6, arbitrary: fc.array(one, { minLength: 1, maxLength: 3 }) })
    return a.required ? one.map((v) => [v]) : fc.option(one.map((v) => [v]), { freq: 3 }).map((v) => v ?? [])
  })
  const extra = fc.oneof({ weight: 12, arbitrary: fc.constant([] as string[]) }, { weight: 1, arbitrary: fc.constantFrom(...GENERIC).map((v) => [v]) })
  return fc.tuple(fc.tuple(...parts), extra).map(([p, e]) => [...p.flat(), ...e])
}

/** A command line and the command it runs. */
interface Case {
  command: string
  args: string[]
}

/** What a case is about: a command and, mostly, one of its flags (given a malformed value more often than not). */
interface Focus {
  leaf: Leaf
  option?: Option
}

/** Every flag of every command (and the global ones, with `snapshots`), and the commands without flags. */
function foci(program: Command): Focus[] {
  const all = leaves(program).filter((l) => l.names.length > 0)
  const out: Focus[] = []
  for (const leaf of all) {
    const options = leaf.options.filter((o) => !SKIPPED_FLAGS.has(o.long ?? ''))
    out.push({ leaf })
    for (const option of options) out.push({ leaf, option })
  }
  const snapshots = all.find((l) => l.names.join(' ') === 'snapshots')!
  for (const option of program.options as Option[]) if (option.long !== '--repo') out.push({ leaf: snapshots, option })
  return out
}

/** A case about `focus`: its flag (malformed mostly), other flags and global flags (sensible mostly), the arguments. */
function caseArb(program: Command, focus: Focus): fc.Arbitrary<Case> {
  const { leaf } = focus
  // other global flags: those that keep the repository usable
  const globals = (program.options as Option[]).filter((o) => SAFE_GLOBALS.has(o.long ?? '') && o !== focus.option)
  const options = leaf.options.filter((o) => !SKIPPED_FLAGS.has(o.long ?? '') && !o.mandatory && o !== focus.option)
  const mandatory = leaf.options.filter((o) => o.mandatory && o !== focus.option)
  const pick = (os: Option[], max: number): fc.Arbitrary<string[][]> =>
    fc.subarray(os, { maxLength: Math.min(max, os.length) }).chain((l) => (l.length === 0 ? fc.constant([] as string[][]) : fc.tuple(...l.map((o) => optionArb(o)))))
  return fc
    .tuple(
      fc.oneof({ weight: 12, arbitrary: fc.constant(join(box, 'repo')) }, { weight: 1, arbitrary: fc.constantFrom(...badPaths(), `local:${join(box, 'repo')}`) }),
      focus.option ? optionArb(focus.option, true) : fc.constant([] as string[]),
      pick(globals, 2),
      pick(options, 2),
      mandatory.length === 0 ? fc.constant([] as string[][]) : fc.tuple(...mandatory.map((o) => fc.option(optionArb(o), { freq: 12 }).map((v) => v ?? []))),
      positionalArb(leaf),
      fc.boolean(),
    )
    .map(([repo, f, g, o, m, pos, flagsFirst]) => {
      const flags = [...f, ...m.flat(), ...o.flat()]
      return {
        command: leaf.names.join(' '),
        args: ['-r', repo, '--no-progress', ...g.flat(), ...leaf.names, ...(flagsFirst ? [...flags, ...pos] : [...pos, ...flags])],
      }
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
  it(`one command line about each flag, then ${RANDOM_RUNS} random ones: no stack trace, ZodError or raw error, exit code 0/1/3/130, no write outside the box`, async () => {
    const program = buildProgram()
    const seen = new Set<string>()
    const failures: string[] = []
    // first one case about each flag of each command, then random ones
    const all = foci(program)
    const examples = all.map((f, i): [Case] => [fc.sample(caseArb(program, f), { seed: SEED + i, numRuns: 1 })[0]!])
    let runs = 0
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...all).chain((f) => caseArb(program, f)), async ({ command, args }) => {
        runs++
        seen.add(command)
        const o = await runCase(args)
        const why = problem(o)
        if (process.env['FUZZ_LOG']) writeLog(`${o.code} ${JSON.stringify(args)}\n  ${o.stderr.trim().split('\n').slice(-2).join('\n  ')}\n`)
        if (why) failures.push(`${why}: rustic-ts ${JSON.stringify(args)}\n${o.stderr.slice(0, 2000)}`)
        return why === undefined
      }),
      // the examples count among the runs
      { numRuns: Math.max(MIN_CASES, examples.length + RANDOM_RUNS), seed: SEED, endOnFailure: true, examples },
    ).catch((e: unknown) => {
      throw new Error(`${failures.join('\n\n')}\n\n${(e as Error).message.split('\n').slice(0, 4).join('\n')}`)
    })
    // nothing written outside the box: next to it, in the worktree, in the real home's cache
    expect(await readdir(outer)).toEqual(['box'])
    expect(gitStatus()).toBe(gitStatusBefore)
    expect(await listOrUndefined(realHomeCache)).toEqual(homeCacheBefore)
    expect(runs).toBeGreaterThanOrEqual(examples.length + RANDOM_RUNS)
    // every command was run
    expect([...seen].sort()).toEqual(leaves(program).map((l) => l.names.join(' ')).filter((n) => n !== '').sort())
  }, 1_200_000)
})
