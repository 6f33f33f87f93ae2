import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { lstat, readdir, readFile, readlink } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The password of every test repository. */
export const PASSWORD = 'rest-server-test-password'

/**
 * The benchmark data set generator: `shared/bench/mkdata.py` in the folder holding the repository (or a
 * folder above it, for a git worktree).
 */
export const MKDATA =
  [1, 2, 3]
    .map((up) => fileURLToPath(new URL(`${'../'.repeat(3 + up)}shared/bench/mkdata.py`, import.meta.url)))
    .find((p) => existsSync(p)) ?? 'shared/bench/mkdata.py (not found)'

/** Exit code and output of a finished process. */
export interface RunResult {
  code: number
  stdout: string
  stderr: string
}

/** Runs a program (never throws for a non-zero exit). */
export function run(program: string, args: string[], env: Record<string, string> = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }))
  })
}

/** `restic -r REPO --no-cache ARGS` with the test password (never throws). */
export function restic(repo: string, args: string[]): Promise<RunResult> {
  return run('restic', ['-r', repo, '--no-cache', ...args], { RESTIC_PASSWORD: PASSWORD })
}

/** Like {@link restic}, but throws with restic's stderr unless it exits 0. */
export async function resticOk(repo: string, args: string[]): Promise<string> {
  const r = await restic(repo, args)
  if (r.code !== 0) throw new Error(`restic ${args.join(' ')} failed (${r.code}): ${r.stderr}`)
  return r.stdout
}

/** Builds the standard data set at `dir` (`mkdata.py DIR --scale S`). */
export async function mkdata(dir: string, scale: string): Promise<void> {
  const r = await run('python3', [MKDATA, dir, '--scale', scale])
  if (r.code !== 0) throw new Error(`mkdata.py failed: ${r.stderr}`)
}

/** Every entry below `root`: type, mode, size and SHA-256 of files, symlink targets (relative paths, sorted). */
export async function treeFacts(root: string): Promise<Array<[string, string]>> {
  const out: Array<[string, string]> = []
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const p = join(dir, name)
      const r = rel ? `${rel}/${name}` : name
      const st = await lstat(p)
      const mode = (st.mode & 0o7777).toString(8)
      if (st.isSymbolicLink()) out.push([r, `link ${await readlink(p)}`])
      else if (st.isDirectory()) {
        out.push([r, `dir ${mode}`])
        await walk(p, r)
      } else out.push([r, `file ${mode} ${st.size} ${createHash('sha256').update(await readFile(p)).digest('hex')}`])
    }
  }
  await walk(root, '')
  return out
}
