import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { connect } from 'node:http2'
import type { ClientHttp2Session } from 'node:http2'
import { Duplex } from 'node:stream'
import { RusticError } from '@rustic-ts/core'
import { childEnv } from '@rustic-ts/core/internal'
import { UndiciTransport } from '@rustic-ts/backend-rest'
import type { RestTransport } from '@rustic-ts/backend-rest'
import { registerChild, unregisterChild } from './childRegistry.js'
import { Http2Transport } from './Http2Transport.js'
import type { ResolvedRcloneBackendOptions } from './RcloneBackendOptions.js'
import { rcloneNotFound } from './rcloneVersion.js'
import { redactRcloneText } from './redactRclonePath.js'

/** HTTP/2 flow-control windows: the defaults (64 KiB) cap downloads far below what rclone can serve. */
const STREAM_WINDOW = 16 * 1024 * 1024
const SESSION_WINDOW = 64 * 1024 * 1024

/** Keeps the last lines rclone wrote to stderr, for error messages. */
class StderrTail {
  private readonly lines: string[] = []
  private partial = ''

  constructor(
    private readonly redact: (s: string) => string,
    private readonly onLine?: (line: string) => void,
  ) {}

  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n')
    this.partial = parts.pop() ?? ''
    for (const p of parts) this.add(p)
  }

  flush(): void {
    if (this.partial !== '') this.add(this.partial)
    this.partial = ''
  }

  /** The most telling line: the last error-looking one, else the last one (timestamps removed). */
  summary(): string {
    const clean = this.lines.map((l) => l.replace(/^\d{4}\/\d\d\/\d\d \d\d:\d\d:\d\d(\.\d+)? /, '').trim()).filter((l) => l !== '')
    const errorLine = [...clean].reverse().find((l) => /error|fail|fatal|not found|didn't find|unknown|invalid|usage/i.test(l))
    return errorLine ?? clean[clean.length - 1] ?? ''
  }

  private add(line: string): void {
    const safe = this.redact(line.replace(/\r$/, ''))
    this.onLine?.(safe)
    this.lines.push(safe)
    if (this.lines.length > 30) this.lines.shift()
  }
}

/**
 * One running `rclone serve restic` child and the transport to it: HTTP/2 over its stdin/stdout
 * (`--stdio`) or HTTP/1.1 to the address it printed (`--addr 127.0.0.1:0`, random credentials).
 * The child is registered to be killed when this process exits.
 */
export class RcloneServer {
  private exitPromise: Promise<void>
  private exitedFlag = false

  private constructor(
    /** The child process. */
    readonly child: ChildProcess,
    /** Carries requests to it. */
    readonly transport: RestTransport,
    private readonly stopTimeoutMs: number,
    exit: Promise<void>,
  ) {
    this.exitPromise = exit.then(() => {
      this.exitedFlag = true
    })
  }

  /** True once the child has exited. */
  get exited(): boolean {
    return this.exitedFlag
  }

  /** Resolves when the child has exited. */
  get whenExited(): Promise<void> {
    return this.exitPromise
  }

  /**
   * Starts rclone and waits until it serves (stdio: a probe request is answered; addr: it printed its
   * address), at most `startupTimeoutMs`.
   * @param remotePath - the rclone remote path (`remote:path`, `:backend,opt=val:path`, a local path).
   * @param printable - `remotePath` without secrets, for messages.
   * @throws RusticError `ExternalCommand` if rclone is missing, exits early (its stderr line is quoted) or times out.
   */
  static async start(remotePath: string, printable: string, o: ResolvedRcloneBackendOptions): Promise<RcloneServer> {
    const user = o.useStdio ? '' : randomBytes(12).toString('hex')
    const pass = o.useStdio ? '' : randomBytes(24).toString('base64url')
    const args = o.useStdio
      ? ['serve', 'restic', '--stdio', '--b2-hard-delete', '--ask-password=false', ...o.rcloneArgs, remotePath]
      : ['serve', 'restic', '--addr', '127.0.0.1:0', '--b2-hard-delete', '--ask-password=false', ...o.rcloneArgs, remotePath]
    const env = o.useStdio ? childEnv() : { ...childEnv(), RCLONE_USER: user, RCLONE_PASS: pass }
    const child = spawn(o.rcloneCommand, args, { stdio: ['pipe', 'pipe', 'pipe'], env, windowsHide: true })
    const redact = (s: string): string => redactRcloneText(s, remotePath)
    const tail = new StderrTail(redact, o.onStderr)
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (d: string) => tail.push(d))
    child.stdin!.on('error', () => {
      // EPIPE after rclone exited: reported through the session or the exit
    })
    registerChild(child)

    const closed = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
      child.once('close', (code, signal) => {
        tail.flush()
        unregisterChild(child)
        resolve({ code, signal })
      })
    })
    const spawnError = new Promise<never>((_, reject) => {
      child.once('error', (err: NodeJS.ErrnoException) => {
        unregisterChild(child)
        reject(
          err.code === 'ENOENT'
            ? rcloneNotFound(o.rcloneCommand, err)
            : new RusticError('ExternalCommand', `cannot run "${o.rcloneCommand}": ${err.message}`, { code: 'RcloneFailed', cause: err }),
        )
      })
    })
    spawnError.catch(() => undefined)
    const earlyExit = closed.then(({ code, signal }) => {
      const why = tail.summary()
      throw new RusticError(
        'ExternalCommand',
        `rclone exited (${signal ?? `code ${code}`}) before serving ${printable}${why ? `: ${why}` : ''}`,
        { code: 'RcloneFailed' },
      )
    })
    earlyExit.catch(() => undefined)

    let timer: NodeJS.Timeout | undefined
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => {
        const why = tail.summary()
        reject(
          new RusticError(
            'ExternalCommand',
            `rclone did not start serving ${printable} within ${o.startupTimeoutMs} ms${why ? `; last output: ${why}` : ''}`,
            { code: 'RcloneTimeout' },
          ),
        )
      }, o.startupTimeoutMs)
    })

    let pipe: Duplex | undefined
    let transport: RestTransport | undefined
    try {
      if (o.useStdio) {
        pipe = Duplex.from({ readable: child.stdout!, writable: child.stdin! })
        const session = openSession(pipe)
        const http2 = new Http2Transport(session, { connections: o.connections, timeoutMs: o.timeoutMs })
        transport = http2
        // Like restic: a request for a file that does not exist shows that rclone serves (any answer will do).
        // If it fails because rclone died, the exit (with rclone's own message) is the better error.
        const probe = http2.request({ method: 'HEAD', path: `file-${randomBytes(8).toString('hex')}` }).catch(async (err: unknown) => {
          await Promise.race([earlyExit, delay(2000)])
          throw new RusticError('ExternalCommand', `rclone did not answer for ${printable}: ${(err as Error).message}`, {
            code: 'RcloneFailed',
            cause: err,
          })
        })
        probe.catch(() => undefined)
        await Promise.race([probe, spawnError, earlyExit, timeout])
      } else {
        const address = new Promise<string>((resolve) => {
          let seen = ''
          const onData = (d: string): void => {
            seen += d
            const m = /Serving restic REST API on (https?:\/\/\S+?)\/?(\s|$)/.exec(seen)
            if (m) {
              child.stderr!.off('data', onData)
              resolve(`${m[1]}/`)
            }
          }
          child.stderr!.on('data', onData)
        })
        const url = new URL(await Promise.race([address, spawnError, earlyExit, timeout]))
        transport = new UndiciTransport(url, {
          authorization: `Basic ${Buffer.from(`${user}:${pass}`).toString('base64')}`,
          timeoutMs: o.timeoutMs,
          connectTimeoutMs: 30_000,
          insecureTls: false,
          connections: o.connections,
          keepAliveTimeoutMs: 30_000,
        })
      }
    } catch (err) {
      clearTimeout(timer)
      // Destroying the pipes (not the session, which would write a GOAWAY into a dead pipe) ends the session.
      pipe?.destroy()
      await stopChild(child, closed, o.stopTimeoutMs)
      throw err
    }
    clearTimeout(timer)
    return new RcloneServer(child, transport, o.stopTimeoutMs, closed.then(() => undefined))
  }

  /** Closes the transport, then stops rclone: stdin closed and `SIGTERM`, `SIGKILL` after `stopTimeoutMs`. */
  async stop(): Promise<void> {
    try {
      await withTimeout(this.transport.close(), 1000)
    } catch {
      // the connection may already be broken; rclone is stopped anyway
    }
    await stopChild(this.child, this.exitPromise, this.stopTimeoutMs)
  }
}

/** Opens a cleartext HTTP/2 session (prior knowledge) over a pipe to the child (its stdout/stdin), with large windows. */
function openSession(pipe: Duplex): ClientHttp2Session {
  const session = connect('http://localhost', {
    createConnection: () => pipe,
    settings: { initialWindowSize: STREAM_WINDOW, enablePush: false },
    maxSessionMemory: 256,
  })
  session.on('error', () => {
    // each stream reports its own failure
  })
  session.once('connect', () => {
    try {
      session.setLocalWindowSize(SESSION_WINDOW)
    } catch {
      // the session is already gone
    }
  })
  return session
}

/** Ends stdin, sends SIGTERM, and SIGKILL if the child has not exited after `graceMs`. */
async function stopChild(child: ChildProcess, exited: Promise<unknown>, graceMs: number): Promise<void> {
  if (child.pid === undefined) return // never started
  if (child.exitCode !== null || child.signalCode !== null) {
    await exited
    return
  }
  child.stdin?.end()
  child.kill('SIGTERM')
  let timer: NodeJS.Timeout | undefined
  const killed = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      child.kill('SIGKILL')
      resolve()
    }, graceMs)
  })
  await Promise.race([exited, killed])
  clearTimeout(timer)
  await exited
}

async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined
  try {
    return await Promise.race([p, new Promise<undefined>((r) => (timer = setTimeout(() => r(undefined), ms)))])
  } finally {
    clearTimeout(timer)
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms))
}
