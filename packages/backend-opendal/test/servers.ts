import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** A running test server and how to reach and stop it. */
export interface TestServer {
  port: number
  dir: string
  stop: () => Promise<void>
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))))
    })
  })
}

async function waitForPort(port: number, child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    if (child.exitCode !== null) throw new Error(`server exited with code ${child.exitCode}`)
    const ok = await new Promise<boolean>((resolve) => {
      const s = connect(port, '127.0.0.1')
      s.once('connect', () => (s.destroy(), resolve(true)))
      s.once('error', () => resolve(false))
    })
    if (ok) return
    if (Date.now() > deadline) throw new Error(`server did not listen on 127.0.0.1:${port}`)
    await new Promise((r) => setTimeout(r, 50))
  }
}

interface S3rverInstance {
  httpServer?: { closeAllConnections(): void }
  run(): Promise<{ port: number }>
  close(): Promise<void>
}
type S3rverCtor = new (options: Record<string, unknown>) => S3rverInstance

/** Starts s3rver on 127.0.0.1 (free port) with the given buckets, storing in a temp dir. */
export async function startS3rver(buckets: string[]): Promise<TestServer> {
  const S3rver = createRequire(import.meta.url)('s3rver') as S3rverCtor
  const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-s3rver-'))
  const server = new S3rver({
    address: '127.0.0.1',
    port: 0,
    silent: true,
    directory: dir,
    configureBuckets: buckets.map((name) => ({ name, configs: [] })),
  })
  const { port } = await server.run()
  return {
    port,
    dir,
    stop: async () => {
      // close() waits for every open connection, and HTTP clients keep theirs alive: end them too
      const closed = server.close()
      server.httpServer?.closeAllConnections()
      await closed
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** Starts `rclone serve webdav` on 127.0.0.1 (free port) over a temp dir. */
export async function startRcloneWebdav(): Promise<TestServer> {
  const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-webdav-'))
  const port = await freePort()
  const child = spawn('rclone', ['serve', 'webdav', '--config', '/dev/null', '--addr', `127.0.0.1:${port}`, dir], {
    stdio: ['ignore', 'ignore', 'pipe'],
  })
  let stderr = ''
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()))
  try {
    await waitForPort(port, child)
  } catch (err) {
    child.kill()
    throw new Error(`rclone serve webdav failed: ${String(err)}\n${stderr}`)
  }
  return {
    port,
    dir,
    stop: async () => {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once('exit', r))
        child.kill('SIGTERM')
        await exited
      }
      await rm(dir, { recursive: true, force: true })
    },
  }
}

/** The opendal s3 options for a bucket on a local s3rver. */
export function s3rverOptions(port: number, bucket: string, root = '/'): Record<string, string> {
  return {
    bucket,
    root,
    endpoint: `http://127.0.0.1:${port}`,
    region: 'us-east-1',
    access_key_id: 'S3RVER',
    secret_access_key: 'S3RVER',
    disable_config_load: 'true',
    disable_ec2_metadata: 'true',
    enable_virtual_host_style: 'false',
  }
}
