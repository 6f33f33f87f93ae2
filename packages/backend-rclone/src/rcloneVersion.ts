import { execFile } from 'node:child_process'
import { RusticError } from '@rustic-ts/core'
import { childEnv } from '@rustic-ts/core/internal'

/** The oldest rclone this backend accepts: `serve restic --stdio` with v2 listings. */
export const MIN_RCLONE_VERSION: readonly [number, number, number] = [1, 52, 0]

/** The version in `rclone version` output (`rclone v1.60.1-DEV` -> `[1, 60, 1]`), or undefined. */
export function parseRcloneVersion(output: string): [number, number, number] | undefined {
  const m = /rclone v?(\d+)\.(\d+)(?:\.(\d+))?/.exec(output)
  if (m === null) return undefined
  return [Number(m[1]), Number(m[2]), Number(m[3] ?? 0)]
}

/** Compares two versions like `Array.sort` expects. */
function compare(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return (a[i] ?? 0) - (b[i] ?? 0)
  return 0
}

/** The `ExternalCommand` error for a missing rclone program. */
export function rcloneNotFound(command: string, cause?: unknown): RusticError {
  return new RusticError(
    'ExternalCommand',
    `rclone not found: install rclone (https://rclone.org/install/) or set rcloneCommand (tried "${command}")`,
    { code: 'RcloneNotFound', cause },
  )
}

/**
 * Runs `rclone version` and checks that this rclone can serve restic (>= {@link MIN_RCLONE_VERSION};
 * with `stdio`, not 1.61.0, which ignored `--stdio`). Unparsable output (a wrapper script) is accepted.
 * @returns the version line, e.g. `rclone v1.60.1-DEV`.
 * @throws RusticError `ExternalCommand` (codes `RcloneNotFound`, `RcloneTooOld`, `RcloneFailed`).
 */
export async function checkRcloneVersion(command: string, stdio: boolean, timeoutMs: number): Promise<string> {
  const output = await new Promise<string>((resolve, reject) => {
    execFile(command, ['version'], { timeout: timeoutMs, maxBuffer: 1 << 20, env: childEnv() }, (err, stdout, stderr) => {
      if (err === null) return resolve(stdout)
      const code = (err as NodeJS.ErrnoException).code
      if (code === 'ENOENT') return reject(rcloneNotFound(command, err))
      const why = code === 'EACCES' ? 'permission denied' : stderr.trim().split('\n').pop() || err.message
      reject(new RusticError('ExternalCommand', `"${command} version" failed: ${why}`, { code: 'RcloneFailed', cause: err }))
    })
  })
  const line = output.split('\n')[0]?.trim() ?? ''
  const v = parseRcloneVersion(line)
  if (v === undefined) return line
  if (compare(v, MIN_RCLONE_VERSION) < 0) {
    throw new RusticError(
      'ExternalCommand',
      `rclone ${v.join('.')} (${command}) is too old: serving restic needs rclone >= ${MIN_RCLONE_VERSION.join('.')}; upgrade rclone`,
      { code: 'RcloneTooOld' },
    )
  }
  if (stdio && compare(v, [1, 61, 0]) === 0) {
    throw new RusticError(
      'ExternalCommand',
      `rclone 1.61.0 (${command}) ignores "serve restic --stdio" (fixed in 1.61.1): upgrade rclone, or use useStdio: false`,
      { code: 'RcloneTooOld' },
    )
  }
  return line
}
