import { createInterface } from 'node:readline'
import { Writable } from 'node:stream'
import { RusticError } from '@rustic-ts/core'

/** True when a password can be asked for: standard input and standard error are terminals. */
export function canPrompt(): boolean {
  return process.stdin.isTTY === true && process.stderr.isTTY === true
}

/**
 * Asks for a password on the terminal without echoing it, as restic does: the prompt goes to stderr, what
 * is typed is not shown. Ctrl-C fails with code `Aborted`, Ctrl-D (end of input) with `NoPassword`.
 */
export function promptPassword(prompt: string): Promise<string> {
  let muted = false
  // readline echoes what is typed to its output: this one forwards the prompt, then nothing
  const output = new Writable({
    write(chunk: Buffer, _encoding, callback): void {
      if (!muted) process.stderr.write(chunk)
      callback()
    },
  })
  const rl = createInterface({ input: process.stdin, output, terminal: true })
  return new Promise<string>((resolve, reject) => {
    let answered = false
    const end = (): void => {
      process.stderr.write('\n')
      rl.close()
    }
    rl.on('SIGINT', () => {
      answered = true
      end()
      reject(new RusticError('Internal', 'interrupted at the password prompt', { code: 'Aborted' }))
    })
    rl.on('close', () => {
      if (answered) return
      answered = true
      process.stderr.write('\n')
      reject(new RusticError('Credentials', 'no password given: the input ended at the password prompt', { code: 'NoPassword' }))
    })
    rl.question(prompt, (answer) => {
      answered = true
      end()
      resolve(answer)
    })
    muted = true
  })
}
