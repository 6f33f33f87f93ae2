import { spawn } from 'node:child_process'
import { RusticError } from '@rustic-ts/core'
import { childEnv, splitCommandLine } from '@rustic-ts/core/internal'

/**
 * Runs a hook command (split into words first, then `%file`, `%type`, `%id` replaced in each word)
 * without a shell; rejects with an `ExternalCommand` error unless it exits 0.
 */
export function runHook(command: string, vars: { file: string; type: string; id: string }, what: string): Promise<void> {
  const argv = splitCommandLine(command).map((w) =>
    w.replace(/%file|%type|%id/g, (m) => (m === '%file' ? vars.file : m === '%type' ? vars.type : vars.id)),
  )
  if (argv.length === 0) return Promise.reject(new RusticError('Configuration', `${what} is empty`))
  const [program, ...args] = argv as [string, ...string[]]
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'], env: childEnv() })
    let stderr = ''
    child.stderr.on('data', (d: Buffer) => {
      if (stderr.length < 4096) stderr += d.toString('utf8')
    })
    child.on('error', (e) => reject(new RusticError('ExternalCommand', `${what}: cannot run "${program}": ${e.message}`, { cause: e })))
    child.on('close', (code, signal) => {
      if (code === 0) return resolve()
      const last = stderr.trim().split('\n').pop() ?? ''
      const how = signal !== null ? `was killed by ${signal}` : `exited with code ${code}`
      reject(new RusticError('ExternalCommand', `${what}: "${program}" ${how}${last ? `: ${last}` : ''}`))
    })
  })
}
