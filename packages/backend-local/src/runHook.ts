import { spawn } from 'node:child_process'
import { RusticError } from '@rustic-ts/core'

/**
 * Splits a command line into words like a POSIX shell (whitespace separates, quotes group,
 * backslash escapes), without any expansion.
 */
export function splitWords(command: string): string[] {
  const words: string[] = []
  let cur = ''
  let inWord = false
  let quote: string | undefined
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!
    if (quote === "'") {
      if (c === "'") quote = undefined
      else cur += c
    } else if (quote === '"') {
      if (c === '"') quote = undefined
      else if (c === '\\' && '"\\$`'.includes(command[i + 1] ?? '')) cur += command[++i]
      else cur += c
    } else if (c === "'" || c === '"') {
      quote = c
      inWord = true
    } else if (c === '\\' && i + 1 < command.length) {
      cur += command[++i]
      inWord = true
    } else if (/\s/.test(c)) {
      if (inWord) words.push(cur)
      cur = ''
      inWord = false
    } else {
      cur += c
      inWord = true
    }
  }
  if (quote !== undefined) throw new RusticError('Configuration', `unterminated ${quote} quote in command "${command}"`)
  if (inWord) words.push(cur)
  return words
}

/**
 * Runs a hook command (split into words first, then `%file`, `%type`, `%id` replaced in each word)
 * without a shell; rejects with an `ExternalCommand` error unless it exits 0.
 */
export function runHook(command: string, vars: { file: string; type: string; id: string }, what: string): Promise<void> {
  const argv = splitWords(command).map((w) =>
    w.replace(/%file|%type|%id/g, (m) => (m === '%file' ? vars.file : m === '%type' ? vars.type : vars.id)),
  )
  if (argv.length === 0) return Promise.reject(new RusticError('Configuration', `${what} is empty`))
  const [program, ...args] = argv as [string, ...string[]]
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, { stdio: ['ignore', 'ignore', 'pipe'] })
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
