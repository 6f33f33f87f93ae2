import { execFileSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resolvePassword } from '@rustic-ts/core/internal'
import { describeRepository } from '../../../src/backendsFromOptions.js'
import { OPENING_COMMANDS, PROGRAM_OPTIONS, earlyKeyTarget } from '../../../src/cli/earlyKey/earlyKeyTarget.js'
import { credentialsFrom, globalOptions } from '../../../src/cli/GlobalOptions.js'
import { buildProgram } from '../../../src/cli/program.js'

let dir: string
/** An environment without profiles (XDG_CONFIG_HOME is a folder of the test) or passwords. */
let base: Record<string, string | undefined>

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rustic-ts-earlykeytarget-'))
  await mkdir(join(dir, 'config'))
  await writeFile(join(dir, 'pw.txt'), '  file-password \n')
  base = { XDG_CONFIG_HOME: join(dir, 'config') }
})
afterAll(async () => rm(dir, { recursive: true, force: true }))

const target = (args: string[], env: Record<string, string | undefined> = {}): ReturnType<typeof earlyKeyTarget> =>
  earlyKeyTarget(['node', 'cli.js', ...args], { ...base, ...env }, dir)

/** Stops the program before the command's action. */
class BeforeAction extends Error {}

/**
 * What the program itself (commander, the profile hook, globalOptions, credentialsFrom) makes of a command
 * line: the repository (as `local:/abs/path`) and the password its action would open it with.
 */
async function programReading(args: string[], env: Record<string, string | undefined>): Promise<{ repository: string; password: string | undefined }> {
  const saved = { ...process.env }
  for (const k of ['RUSTIC_PASSWORD', 'RESTIC_PASSWORD', 'RUSTIC_PASSWORD_FILE', 'RESTIC_PASSWORD_FILE', 'RUSTIC_REPOSITORY', 'RESTIC_REPOSITORY', 'RUSTIC_PASSWORD_COMMAND', 'RESTIC_PASSWORD_COMMAND', 'RUSTIC_USE_PROFILE']) {
    delete process.env[k]
  }
  for (const [k, v] of Object.entries({ ...base, ...env })) if (v !== undefined) process.env[k] = v
  let seen: { repository: string; password: string | undefined } | undefined
  try {
    const program = buildProgram().hook('preAction', async (_root, action) => {
      const g = globalOptions(action)
      seen = { repository: describeRepository(g.repo ?? ''), password: await resolvePassword(await credentialsFrom(g)) }
      throw new BeforeAction()
    })
    await program.parseAsync(['node', 'cli.js', ...args]).catch((e: unknown) => {
      if (!(e instanceof BeforeAction)) throw e
    })
  } finally {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k]
    Object.assign(process.env, saved)
  }
  if (seen === undefined) throw new Error(`no action ran for ${args.join(' ')}`)
  return seen
}

describe('earlyKeyTarget: the repository and password of a command line, read as the program reads them', () => {
  it("knows the program's options by every name, with whether each takes a value, and only commands the program has", () => {
    const program = buildProgram()
    const expected = new Map<string, boolean>()
    for (const o of program.options) {
      // -V/--version is the program's version flag, which earlyKeyTarget treats with the help flags
      for (const flag of [o.short, o.long]) if (flag && o.long !== '--version') expected.set(flag, o.required || o.optional)
    }
    expect(new Map([...PROGRAM_OPTIONS].map(([flag, o]) => [flag, o.value]))).toEqual(expected)
    const commands = new Set(program.commands.map((c) => c.name()))
    for (const c of OPENING_COMMANDS) expect(commands.has(c), c).toBe(true)
  })

  it("agrees with the program's own reading (commander, globalOptions, credentialsFrom) on the command lines it accepts", async () => {
    const pw = join(dir, 'pw.txt')
    const cases: Array<[string[], Record<string, string>]> = [
      [['-r', 'repo', 'snapshots'], { RUSTIC_PASSWORD: 'a' }],
      [['snapshots', '--json', '-qv', '-r', 'repo'], { RESTIC_PASSWORD: 'b' }],
      [['--repo=local:repo', 'cat', 'config'], { RUSTIC_PASSWORD: 'a', RESTIC_PASSWORD: 'b' }],
      [['-rrepo', 'check', '--read-data'], { RUSTIC_PASSWORD_FILE: pw, RESTIC_PASSWORD: 'b' }],
      [['-qvr', 'repo', 'backup', '--tag', 'x', '/data'], { RESTIC_PASSWORD_FILE: pw }],
      [['ls', '-l', 'latest', '-r', 'repo'], { RUSTIC_PASSWORD: '' }],
      [['forget', '--keep-last', '1', '-r', 'other', '--no-cache', '--repo', 'repo'], { RUSTIC_PASSWORD: 'a' }],
      [['-p', pw, '--password-command', 'echo no', '-r', 'repo', 'snapshots'], { RUSTIC_PASSWORD: 'env' }],
      [['--password-file=' + pw, 'snapshots'], { RESTIC_REPOSITORY: 'env-repo' }],
      [['snapshots'], { RUSTIC_REPOSITORY: 'rustic-repo', RESTIC_REPOSITORY: 'restic-repo', RESTIC_PASSWORD: 'b' }],
      [['key', 'list', '-r', join(dir, 'abs')], { RUSTIC_PASSWORD: 'a' }],
      [['repair', 'index', '--dry-run', '-r', 'repo'], { RUSTIC_PASSWORD: 'a' }],
      [['copy', '--from-repo', 'other', '-r', 'repo'], { RUSTIC_PASSWORD: 'a' }],
    ]
    for (const [args, env] of cases) {
      const early = earlyKeyTarget(['node', 'cli.js', ...args], { ...base, ...env })
      expect(early, args.join(' ')).toBeDefined()
      expect({ repository: `local:${early!.repository}`, password: early!.password }, args.join(' ')).toEqual(await programReading(args, env))
    }
  })

  it('takes -r/--repo anywhere before `--` (as commander takes program options), in each of its forms; names the command', () => {
    const repo = { repository: join(dir, 'repo'), password: 'pw' }
    const env = { RUSTIC_PASSWORD: 'pw' }
    for (const [command, args] of [
      ['snapshots', ['-r', 'repo', 'snapshots']],
      ['snapshots', ['snapshots', '-r', 'repo', '--json']],
      ['cat', ['--repo=repo', 'cat', 'config']],
      ['check', ['-rrepo', 'check', '--read-data']],
      ['backup', ['-qvr', 'repo', 'backup', '/data']],
      ['ls', ['--repo', 'local:repo', 'ls', 'latest']],
      ['snapshots', ['-r', 'other', 'snapshots', '-r', 'repo']],
    ] as const) {
      expect(target([...args], env), args.join(' ')).toEqual({ ...repo, command })
    }
    expect(target(['-r', join(dir, 'abs'), 'snapshots'], env)?.repository).toBe(join(dir, 'abs'))
  })

  it('falls back to RUSTIC_REPOSITORY, then RESTIC_REPOSITORY (an empty RUSTIC_REPOSITORY gives none, as globalOptions reads it)', () => {
    const env = { RUSTIC_PASSWORD: 'pw', RESTIC_REPOSITORY: 'restic-repo' }
    expect(target(['snapshots'], env)?.repository).toBe(join(dir, 'restic-repo'))
    expect(target(['snapshots'], { ...env, RUSTIC_REPOSITORY: 'rustic-repo' })?.repository).toBe(join(dir, 'rustic-repo'))
    expect(target(['snapshots'], { ...env, RUSTIC_REPOSITORY: '' })).toBeUndefined()
    expect(target(['-r', 'flag-repo', 'snapshots'], env)?.repository).toBe(join(dir, 'flag-repo'))
  })

  it("finds the password in credentialsFrom's order: -p, then RUSTIC_*, then RESTIC_*; a password file is trimmed", () => {
    const args = ['-r', 'repo', 'snapshots']
    expect(target(['-p', join(dir, 'pw.txt'), ...args], { RUSTIC_PASSWORD: 'env' })?.password).toBe('file-password')
    expect(target(args, { RUSTIC_PASSWORD: 'rustic', RESTIC_PASSWORD: 'restic' })?.password).toBe('rustic')
    expect(target(args, { RUSTIC_PASSWORD: '' })?.password).toBe('')
    expect(target(args, { RUSTIC_PASSWORD_FILE: join(dir, 'pw.txt'), RESTIC_PASSWORD: 'restic' })?.password).toBe('file-password')
    expect(target(args, { RESTIC_PASSWORD_FILE: join(dir, 'pw.txt') })?.password).toBe('file-password')
    expect(target(args, { RESTIC_PASSWORD: 'restic' })?.password).toBe('restic')
  })

  it('gives nothing for a password command, a prompt, or a password "file" that is no regular file (a pipe is never read)', () => {
    const args = ['-r', 'repo', 'snapshots']
    expect(target(args)).toBeUndefined()
    expect(target(['--password-command', 'echo pw', ...args], { RESTIC_PASSWORD: 'pw' })).toBeUndefined()
    expect(target(args, { RUSTIC_PASSWORD_COMMAND: 'echo pw', RESTIC_PASSWORD: 'pw' })).toBeUndefined()
    expect(target(['-p', dir, ...args])).toBeUndefined()
    expect(target(['-p', join(dir, 'missing'), ...args], { RUSTIC_PASSWORD: 'pw' })).toBeUndefined()
    const fifo = join(dir, 'fifo')
    execFileSync('mkfifo', [fifo])
    expect(target(['-p', fifo, ...args])).toBeUndefined()
  })

  it('gives nothing for commands that open no repository, help, version, usage errors and other backends', () => {
    const env = { RUSTIC_PASSWORD: 'pw' }
    for (const args of [
      ['-r', 'repo', 'init'],
      ['-r', 'repo', 'help', 'snapshots'],
      ['-r', 'repo', 'show-config'],
      ['-r', 'repo', 'serve'],
      ['-r', 'repo'],
      ['-r', 'repo', 'snapshots', '--help'],
      ['-r', 'repo', 'snapshots', '-h'],
      ['-r', 'repo', 'ls', '-lh', 'latest'],
      ['-r', 'repo', '-V'],
      ['--unknown', '-r', 'repo', 'snapshots'],
      ['snapshots', '--', '-r', 'repo'],
      ['snapshots', '-r'],
      ['-r', '', 'snapshots'],
      ['-r', 'local:', 'snapshots'],
      ['-r', 'rest:http://127.0.0.1:8000/', 'snapshots'],
      ['-r', 'sftp:host:/repo', 'snapshots'],
      ['-r', 'repo', '--repo-hot', 'hot', 'snapshots'],
      ['-r', 'repo', '-o', 'local.layout=s3legacy', 'snapshots'],
      ['-r', 'repo', '--opendal', 'root=/', 'snapshots'],
    ]) {
      expect(target(args, env), args.join(' ')).toBeUndefined()
    }
  })

  it('gives nothing when a profile could give the repository or password: -P, RUSTIC_USE_PROFILE, or a rustic.toml where profiles are looked for', async () => {
    const args = ['-r', 'repo', 'snapshots']
    const env = { RUSTIC_PASSWORD: 'pw' }
    expect(target(args, env)).toBeDefined()
    expect(target(['-P', 'home', ...args], env)).toBeUndefined()
    expect(target(args, { ...env, RUSTIC_USE_PROFILE: 'home' })).toBeUndefined()
    await mkdir(join(dir, 'config', 'rustic-ts'))
    await writeFile(join(dir, 'config', 'rustic-ts', 'rustic.toml'), '')
    expect(target(args, env)).toBeUndefined()
    await rm(join(dir, 'config', 'rustic-ts'), { recursive: true })
    await writeFile(join(dir, 'rustic.toml'), '')
    expect(target(args, env)).toBeUndefined()
    await rm(join(dir, 'rustic.toml'))
    expect(target(args, env)).toBeDefined()
  })
})
