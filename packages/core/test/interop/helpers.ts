import { spawn, type ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Repository, type RepositoryOptions } from '@rustic-ts/core/internal'

/** Password of the test repositories. */
export const password = 'interop-lock-pw'

/** Output of a finished restic run. */
export interface ResticRun {
  code: number
  stdout: string
  stderr: string
}

/** Starts `restic -r repo --no-cache ARGS` with the test password. */
export function startRestic(repo: string, args: string[]): ChildProcess {
  return spawn('restic', ['-r', repo, '--no-cache', ...args], {
    env: { ...process.env, RESTIC_PASSWORD: password },
    stdio: ['pipe', 'pipe', 'pipe'],
  })
}

/** The outcome of a started restic. */
export function finished(child: ChildProcess): Promise<ResticRun> {
  const out: Buffer[] = []
  const err: Buffer[] = []
  child.stdout!.on('data', (d: Buffer) => out.push(d))
  child.stderr!.on('data', (d: Buffer) => err.push(d))
  return new Promise((resolve, reject) => {
    child.on('error', reject)
    child.on('close', (code) => resolve({ code: code ?? -1, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() }))
  })
}

/** Runs restic to the end, with `input` on stdin (never throws for a non-zero exit). */
export function restic(repo: string, args: string[], input = ''): Promise<ResticRun> {
  const child = startRestic(repo, args)
  child.stdin!.end(input)
  return finished(child)
}

/**
 * A new repository made by rustic-ts with a cheap key (scrypt N=1024: restic uses whatever the key
 * file says, so every restic command opens it fast), in a fresh temp dir.
 */
export async function cheapRepo(prefix: string): Promise<{ dir: string; repo: string; open: (o?: RepositoryOptions) => Promise<Repository>; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  const repo = join(dir, 'repo')
  const r = await Repository.init({}, { repository: new LocalBackend(repo) }, { password }, { kdf: { N: 1024, r: 8, p: 1 } })
  await r.close()
  return {
    dir,
    repo,
    open: (o = {}) => Repository.open({ noCache: true, ...o }, { repository: new LocalBackend(repo) }, { password }),
    remove: () => rm(dir, { recursive: true, force: true }),
  }
}

/** Waits until `check` is true, polling every 20 ms (at most `ms`). */
export async function until(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}
