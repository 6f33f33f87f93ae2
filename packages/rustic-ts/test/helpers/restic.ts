import { execFile, spawn } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'

const execFileP = promisify(execFile)

/** The password every test repository uses. */
export const PASSWORD = 'test-password-123'

/** The `rustic-ts` command (bin/rustic-ts.js, which runs the built dist/cli.js: tests run after `npm run build`). */
export const CLI = fileURLToPath(new URL('../../bin/rustic-ts.js', import.meta.url))

/** Environment additions; `undefined` removes a variable. */
export type Env = Record<string, string | undefined>

/** Output of a finished process. */
export interface RunResult {
  code: number
  stdout: Buffer
  stderr: string
}

/** Runs a program and collects its output (never throws for a non-zero exit). */
export function run(program: string, args: string[], env: Env = {}, input?: Uint8Array): Promise<RunResult> {
  const fullEnv: Record<string, string | undefined> = { ...process.env, ...env }
  for (const k of Object.keys(fullEnv)) if (fullEnv[k] === undefined) delete fullEnv[k]
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: fullEnv, stdio: ['pipe', 'pipe', 'pipe'] })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }))
    child.stdin.end(input)
  })
}

/** Runs `restic -r repo ARGS` with the test password; throws with restic's stderr on failure. */
export async function restic(repo: string, args: string[], env: Env = {}): Promise<Buffer> {
  const r = await run('restic', ['-r', repo, '--no-cache', ...args], { RESTIC_PASSWORD: PASSWORD, ...env })
  if (r.code !== 0) throw new Error(`restic ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

/**
 * Runs the rustic-ts CLI as its installed command runs (through its shebang, with the Node flags it sets)
 * with the test password (unless `env` overrides it); never throws for a non-zero exit.
 */
export function rustic(args: string[], env: Env = {}, input?: Uint8Array): Promise<RunResult> {
  return run(CLI, args, { RUSTIC_PASSWORD: PASSWORD, ...env }, input)
}

/** Like {@link rustic} but throws with the stderr when the exit code is not 0. */
export async function rusticOk(args: string[], env: Env = {}): Promise<Buffer> {
  const r = await rustic(args, env)
  if (r.code !== 0) throw new Error(`rustic-ts ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

/** A fresh temporary directory and its remover. */
export async function tempDir(prefix = 'rustic-ts-test-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

/** restic's version line, to skip nothing silently: tests require restic. */
export async function resticVersion(): Promise<string> {
  return (await execFileP('restic', ['version'])).stdout.trim()
}
