import { spawn } from 'node:child_process'
import { RusticError } from '../error/RusticError.js'
import { childEnv } from './childEnv.js'

/**
 * Splits a command line into arguments like a POSIX shell does for words:
 * whitespace separates, single and double quotes group, backslash escapes. No expansion.
 */
export function splitCommandLine(command: string): string[] {
  const args: string[] = []
  let cur = ''
  let inWord = false
  let quote: '"' | "'" | undefined
  for (let i = 0; i < command.length; i++) {
    const c = command[i]!
    if (quote === "'") {
      if (c === "'") quote = undefined
      else cur += c
    } else if (quote === '"') {
      if (c === '"') quote = undefined
      else if (c === '\\' && i + 1 < command.length && '"\\$`'.includes(command[i + 1]!)) cur += command[++i]
      else cur += c
    } else if (c === "'" || c === '"') {
      quote = c
      inWord = true
    } else if (c === '\\' && i + 1 < command.length) {
      cur += command[++i]
      inWord = true
    } else if (/\s/.test(c)) {
      if (inWord) args.push(cur)
      cur = ''
      inWord = false
    } else {
      cur += c
      inWord = true
    }
  }
  if (quote) throw new RusticError('InvalidInput', `unterminated ${quote} quote in command "${command}"`, { code: 'InvalidCommand' })
  if (inWord) args.push(cur)
  return args
}

/** Result of {@link runCommand}. */
export interface CommandResult {
  stdout: Buffer
  stderr: string
}

/**
 * Runs a command (a command line split by {@link splitCommandLine}, or an argv array) without a shell,
 * and resolves with its output when it exits 0. Otherwise throws an `ExternalCommand` error that names
 * the program and its exit status and quotes the last line of its stderr (unless `quoteStderr` is false).
 * Children get {@link childEnv} unless `env` is given.
 * @param what - what the command is for, used in messages (e.g. `password command`).
 */
export function runCommand(
  command: string | string[],
  what: string,
  options: { signal?: AbortSignal; env?: NodeJS.ProcessEnv; quoteStderr?: boolean } = {},
): Promise<CommandResult> {
  const argv = typeof command === 'string' ? splitCommandLine(command) : command
  if (argv.length === 0) return Promise.reject(new RusticError('InvalidInput', `${what} is empty`, { code: 'InvalidCommand' }))
  const [program, ...args] = argv as [string, ...string[]]
  return new Promise((resolve, reject) => {
    const child = spawn(program, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      signal: options.signal,
      env: options.env ?? childEnv(),
    })
    const out: Buffer[] = []
    const err: Buffer[] = []
    child.stdout.on('data', (d: Buffer) => out.push(d))
    child.stderr.on('data', (d: Buffer) => err.push(d))
    child.on('error', (e: NodeJS.ErrnoException) => {
      const msg = e.code === 'ENOENT' ? `${what}: program "${program}" not found` : `${what}: cannot run "${program}": ${e.message}`
      reject(new RusticError('ExternalCommand', msg, { code: e.name === 'AbortError' ? 'Aborted' : 'CommandFailed', cause: e }))
    })
    child.on('close', (code, signal) => {
      const stderr = Buffer.concat(err).toString('utf8')
      if (code === 0) return resolve({ stdout: Buffer.concat(out), stderr })
      const last = options.quoteStderr === false ? '' : (stderr.trim().split('\n').pop() ?? '')
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`
      reject(
        new RusticError('ExternalCommand', `${what}: "${program}" ${how}${last ? `: ${last}` : ''}`, {
          code: 'CommandFailed',
        }),
      )
    })
  })
}
