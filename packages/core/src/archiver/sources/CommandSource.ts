import { spawn } from 'node:child_process'
import { RusticError } from '../../error/RusticError.js'
import { childEnv } from '../../util/childEnv.js'
import { splitCommandLine } from '../../util/command.js'
import { StreamSource } from './StreamSource.js'

/** How much of the command's stderr is kept for the error message. */
const STDERR_TAIL = 4096

/**
 * Runs `argv` (no shell) and yields its stdout. Throws an `ExternalCommand` error naming the program
 * when it cannot start, or exits non-zero or on a signal (after its output), so that a failed command
 * fails the backup instead of storing truncated content. Stopping the iteration early kills it.
 */
export async function* commandOutput(argv: readonly string[], env: NodeJS.ProcessEnv = childEnv()): AsyncGenerator<Uint8Array> {
  if (argv.length === 0) throw new RusticError('InvalidInput', 'stdin command is empty', { code: 'InvalidCommand' })
  const [program, ...args] = argv as [string, ...string[]]
  const child = spawn(program, args, { stdio: ['ignore', 'pipe', 'pipe'], env })
  let stderr = ''
  child.stderr.setEncoding('utf8')
  child.stderr.on('data', (d: string) => {
    stderr = (stderr + d).slice(-STDERR_TAIL)
  })
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: NodeJS.ErrnoException }>((resolve) => {
    child.once('error', (error: NodeJS.ErrnoException) => resolve({ code: null, signal: null, error }))
    child.once('close', (code, signal) => resolve({ code, signal }))
  })
  let done = false
  try {
    for await (const chunk of child.stdout) yield chunk as Buffer
    const r = await exited
    done = true
    if (r.error) {
      const msg = r.error.code === 'ENOENT' ? `program "${program}" not found` : `cannot run "${program}": ${r.error.message}`
      throw new RusticError('ExternalCommand', `stdin command: ${msg}`, { code: 'CommandFailed', cause: r.error })
    }
    if (r.code !== 0) {
      const last = stderr.trim().split('\n').pop() ?? ''
      const how = r.signal ? `was killed by ${r.signal}` : `exited with code ${r.code}`
      throw new RusticError('ExternalCommand', `stdin command "${program}" ${how}${last ? `: ${last}` : ''}`, { code: 'CommandFailed' })
    }
  } finally {
    if (!done && child.exitCode === null && child.signalCode === null) child.kill()
  }
}

/**
 * The standard output of a command as one file (rustic's `backup --stdin-command`): like
 * {@link StreamSource}, named `filename` (default `stdin`). The command (a command line split like a
 * shell does, without running one, or an argv array) starts when the content is read; if it fails or
 * exits non-zero, reading the content throws an `ExternalCommand` error and the backup fails.
 */
export class CommandSource extends StreamSource {
  /** The command's argv. */
  readonly argv: readonly string[]

  /** Throws `InvalidInput` for an empty command or unbalanced quotes. */
  constructor(command: string | readonly string[], filename = 'stdin', options: { env?: NodeJS.ProcessEnv } = {}) {
    const argv = typeof command === 'string' ? splitCommandLine(command) : [...command]
    if (argv.length === 0) throw new RusticError('InvalidInput', 'stdin command is empty', { code: 'InvalidCommand' })
    super(() => commandOutput(argv, options.env), filename)
    this.argv = argv
  }
}
