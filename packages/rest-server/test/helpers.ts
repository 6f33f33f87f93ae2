import { createHash } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { hashSync } from 'bcryptjs'
import { createRestServer } from '@rustic-ts/rest-server'
import type { RestServer, RestServerOptions } from '@rustic-ts/rest-server'

/** A temporary directory and its remover. */
export async function tempDir(prefix = 'rest-server-test-'): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), prefix))
  return { path, remove: () => rm(path, { recursive: true, force: true }) }
}

/** Writes an htpasswd file with a bcrypt entry per user (cost 4: fast tests) and returns its path. */
export async function writeHtpasswd(dir: string, users: Record<string, string>): Promise<string> {
  const file = join(dir, 'htpasswd')
  const lines = Object.entries(users).map(([u, p]) => `${u}:${hashSync(p, 4)}`)
  await writeFile(file, lines.join('\n') + '\n')
  return file
}

/** A started server on 127.0.0.1 (free port). */
export async function startServer(options: RestServerOptions): Promise<{ rest: RestServer; url: string; port: number }> {
  const rest = createRestServer({ onWarning: () => {}, ...options })
  const { url, port } = await rest.listen('127.0.0.1:0')
  return { rest, url, port }
}

/** SHA-256 hex of bytes: the name restic gives a file. */
export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex')
}

/** A raw HTTP/1.1 request (the path is sent exactly as given, unlike fetch, which normalises `..`). */
export function raw(
  port: number,
  method: string,
  path: string,
  options: { headers?: Record<string, string>; body?: Uint8Array; auth?: string } = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { ...options.headers }
    if (options.auth !== undefined) headers['authorization'] = `Basic ${Buffer.from(options.auth).toString('base64')}`
    if (options.body !== undefined) headers['content-length'] = String(options.body.length)
    const req = request({ host: '127.0.0.1', port, method, path, headers, agent: false }, (res) => {
      const chunks: Buffer[] = []
      res.on('data', (c: Buffer) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }))
      res.on('error', reject)
    })
    req.on('error', reject)
    req.end(options.body)
  })
}
