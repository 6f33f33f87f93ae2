import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'

/** A running `rclone serve restic --addr 127.0.0.1:0 DIR`. */
export interface RcloneRestServer {
  /** `http[s]://127.0.0.1:PORT/` (no credentials). */
  url: string
  port: number
  child: ChildProcess
  /** Everything rclone wrote to stderr so far. */
  stderr(): string
  stop(): Promise<void>
}

/** Starts `rclone serve restic` on a free port of 127.0.0.1 and waits for its "Serving restic REST API" line. */
export async function startRcloneRestServer(dir: string, extraArgs: string[] = []): Promise<RcloneRestServer> {
  const child = spawn('rclone', ['serve', 'restic', '--config', '/dev/null', '--addr', '127.0.0.1:0', ...extraArgs, dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let err = ''
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      reject(new Error(`rclone did not start: ${err}`))
    }, 20_000)
    child.stderr!.setEncoding('utf8')
    child.stderr!.on('data', (d: string) => {
      err += d
      const m = /Serving restic REST API on (https?:\/\/127\.0\.0\.1:\d+\/)/.exec(err)
      if (m) {
        clearTimeout(timer)
        resolve(m[1]!)
      }
    })
    child.on('exit', (code) => {
      clearTimeout(timer)
      reject(new Error(`rclone exited with ${code}: ${err}`))
    })
  })
  return {
    url,
    port: Number(new URL(url).port),
    child,
    stderr: () => err,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGTERM')
      await exited
    },
  }
}
