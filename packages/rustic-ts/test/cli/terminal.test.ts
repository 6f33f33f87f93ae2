import { spawn } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, truncate, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, rusticOk, tempDir } from '../helpers/restic.js'

/**
 * The CLI on a terminal: `script` runs it on a pseudo-terminal (stdin, stdout and stderr are a TTY), the
 * test types at the password prompt and reads everything the terminal showed.
 */

const PASSWORD = 'typed at the prompt 42'
/** Bytes of the backed-up file: large enough for the progress bar to be drawn a few times. */
const SIZE = 24 * 1024 * 1024

let tmp: Awaited<ReturnType<typeof tempDir>>
let repo: string
let data: string

/** Environment without any password or repository variable, so that the CLI has to ask. */
function bareEnv(): Record<string, string> {
  const env: Record<string, string> = {}
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !/^(RUSTIC|RESTIC)_(PASSWORD|REPOSITORY)/.test(k)) env[k] = v
  }
  return { ...env, TERM: 'xterm', COLUMNS: '160' }
}

interface Session {
  /** Everything the terminal showed so far. */
  screen: () => string
  /** Resolves once the terminal showed text matching `pattern`. */
  waitFor: (pattern: RegExp) => Promise<void>
  /** Types on the terminal. */
  type: (text: string) => void
  /** The exit code. */
  exit: Promise<number>
}

/** Runs the CLI with `args` on a pseudo-terminal (with `env` added to the bare environment). */
function onTerminal(args: string[], env: Record<string, string> = {}): Session {
  const command = [CLI, ...args].map((a) => `'${a.replaceAll("'", `'\\''`)}'`).join(' ')
  const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], { env: { ...bareEnv(), ...env }, stdio: ['pipe', 'pipe', 'inherit'] })
  let out = ''
  const waiters: Array<{ pattern: RegExp; resolve: () => void }> = []
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
    for (const w of [...waiters]) {
      if (w.pattern.test(out)) {
        waiters.splice(waiters.indexOf(w), 1)
        w.resolve()
      }
    }
  })
  const exit = new Promise<number>((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve(code ?? -1))
  })
  return {
    screen: () => out,
    waitFor: (pattern) => (pattern.test(out) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pattern, resolve }))),
    // a short pause first: the prompt is drawn before readline switches the terminal to raw mode
    type: (text) => void setTimeout(() => child.stdin.write(text), 300),
    exit,
  }
}

/** The lines the terminal showed, each redraw of a line (after `\r` or a cursor move to column 1) on its own. */
function screenLines(screen: string): string[] {
  return screen
    .replace(/\x1b\[1G/g, '\n')
    .replace(/\x1b\[[0-9;?]*[A-Za-z]|\x1b[78]/g, '')
    .split(/\r?\n|\r/)
    .map((l) => l.trimEnd())
    .filter((l) => l !== '')
}

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-tty-')
  repo = join(tmp.path, 'repo')
  data = join(tmp.path, 'data')
  await mkdir(data)
  await writeFile(join(data, 'big.bin'), randomBytes(SIZE))
}, 120_000)
afterAll(async () => tmp?.remove())

describe('on a terminal', () => {
  it('init asks for the password twice without echo; backup asks once and its progress bar never shows a made-up total', async () => {
    const init = onTerminal(['-r', repo, 'init'])
    await init.waitFor(/enter password for new repository: /)
    init.type(`${PASSWORD}\r`)
    await init.waitFor(/enter password again: /)
    init.type(`${PASSWORD}\r`)
    expect(await init.exit, init.screen()).toBe(0)
    expect(init.screen()).toMatch(/created repository [0-9a-f]+/)
    expect(init.screen()).not.toContain(PASSWORD)

    const backup = onTerminal(['-r', repo, '--no-cache', 'backup', data])
    await backup.waitFor(/enter password for repository: /)
    backup.type(`${PASSWORD}\r`)
    expect(await backup.exit, backup.screen()).toBe(0)
    const screen = backup.screen()
    expect(screen).not.toContain(PASSWORD)
    expect(screen).toMatch(/snapshot [0-9a-f]{8} saved/)

    const lines = screenLines(screen)
    const bars = lines.filter((l) => l.startsWith('backing up'))
    expect(bars.length, screen).toBeGreaterThan(0)
    // every line with a total shows the real one: the size of what is backed up
    const withTotal = bars.filter((l) => /\d+% /.test(l))
    expect(withTotal.length, screen).toBeGreaterThan(0)
    for (const l of withTotal) expect(l).toMatch(/\d+% [\d.]+ (B|KiB|MiB)\/24\.0 MiB /)
    // a line without a total is a spinner and a count, never a percentage
    for (const l of bars.filter((x) => !/\d+% /.test(x))) expect(l).toMatch(/^backing up [|/\\-] [\d.]+ (B|KiB|MiB) /)
    // no progress line anywhere has a percentage over a total of nothing or a placeholder
    for (const l of lines) expect(l).not.toMatch(/\d+% [\d.]+ \w*B\/(0|100) B\b/)

    const snaps = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--json'], { RUSTIC_PASSWORD: PASSWORD })).toString()) as unknown[]
    expect(snaps).toHaveLength(1)
  })

  it('different passwords at init fail in one line; Ctrl-C at the prompt exits 130 with one line', async () => {
    const other = join(tmp.path, 'other')
    const init = onTerminal(['-r', other, 'init'])
    await init.waitFor(/enter password for new repository: /)
    init.type('one\r')
    await init.waitFor(/enter password again: /)
    init.type('two\r')
    expect(await init.exit).toBe(1)
    expect(init.screen()).toMatch(/rustic-ts: error: passwords do not match/)

    const ls = onTerminal(['-r', repo, '--no-cache', 'snapshots'])
    await ls.waitFor(/enter password for repository: /)
    ls.type('\x03')
    expect(await ls.exit).toBe(130)
    expect(screenLines(ls.screen()).filter((l) => l.startsWith('rustic-ts:'))).toEqual(['rustic-ts: interrupted'])
  })

  it('Ctrl-C during a backup says in one line what was kept and that the next backup resumes; no snapshot is written', async () => {
    // a sparse 16 GiB file: reading and chunking it takes far longer than the Ctrl-C takes to arrive
    const endless = join(tmp.path, 'endless')
    await mkdir(endless)
    await writeFile(join(endless, 'sparse.bin'), '')
    await truncate(join(endless, 'sparse.bin'), 16 * 1024 ** 3)
    const backup = onTerminal(['-r', repo, '--no-cache', 'backup', '--tag', 'interrupted', endless])
    await backup.waitFor(/enter password for repository: /)
    backup.type(`${PASSWORD}\r`)
    await backup.waitFor(/backing up/)
    backup.type('\x03')
    expect(await backup.exit).toBe(130)
    const said = screenLines(backup.screen()).filter((l) => l.startsWith('rustic-ts:'))
    expect(said).toEqual(['rustic-ts: interrupted: the data uploaded so far is kept in the repository and the next backup reuses it (no snapshot was written)'])
    const snaps = JSON.parse((await rusticOk(['-r', repo, '--no-cache', 'snapshots', '--json', '--tag', 'interrupted'], { RUSTIC_PASSWORD: PASSWORD })).toString()) as unknown[]
    expect(snaps).toEqual([])
  })

  it('key passwd asks for the repository password, then the new one twice; copy asks for the source password', async () => {
    const keyed = join(tmp.path, 'keyed')
    await rusticOk(['-r', keyed, 'init'], { RUSTIC_PASSWORD: 'old one' })
    const passwd = onTerminal(['-r', keyed, '--no-cache', 'key', 'passwd'])
    await passwd.waitFor(/enter password for repository: /)
    passwd.type('old one\r')
    await passwd.waitFor(/enter new password: /)
    passwd.type(`${PASSWORD}\r`)
    await passwd.waitFor(/enter password again: /)
    passwd.type(`${PASSWORD}\r`)
    expect(await passwd.exit, passwd.screen()).toBe(0)
    expect(passwd.screen()).toMatch(/saved new key as [0-9a-f]{64}/)
    expect(passwd.screen()).not.toContain(PASSWORD)
    await rusticOk(['-r', keyed, '--no-cache', 'snapshots'], { RUSTIC_PASSWORD: PASSWORD })

    // the source of a copy: asked for on the terminal (the target's password comes from the environment)
    const copy = onTerminal(['-r', keyed, '--no-cache', 'copy', '--from-repo', repo], { RUSTIC_PASSWORD: PASSWORD })
    await copy.waitFor(/enter password for source repository: /)
    copy.type(`${PASSWORD}\r`)
    expect(await copy.exit, copy.screen()).toBe(0)
    expect(copy.screen()).toMatch(/copied 1 snapshot\(s\)/)
  })
})
