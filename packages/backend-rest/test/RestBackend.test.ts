import { createServer } from 'node:http'
import type { IncomingMessage, Server, ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BackendError, CONFIG_ID, RusticError, hashId } from '@rustic-ts/core'
import type { Id } from '@rustic-ts/core'
import { RestBackend } from '@rustic-ts/backend-rest'
import { errorFromStatus } from '../src/restErrors.js'
import { parseRestUrl } from '../src/RestUrl.js'

/**
 * A tiny REST server speaking only v1 listings (names, `application/vnd.x.restic.rest.v1`), with
 * per-path overrides to produce errors and odd answers.
 */
class V1Server {
  readonly files = new Map<string, Buffer>()
  readonly overrides = new Map<string, (req: IncomingMessage, res: ServerResponse) => void>()
  readonly requests: string[] = []
  /** TCP connections accepted so far. */
  connections = 0
  private server: Server | undefined
  url = ''

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const path = decodeURIComponent(new URL(req.url!, 'http://x').pathname).slice(1)
      this.requests.push(`${req.method} ${path}`)
      const o = this.overrides.get(path)
      if (o) return o(req, res)
      const chunks: Buffer[] = []
      req.on('data', (c: Buffer) => chunks.push(c))
      req.on('end', () => this.handle(req, res, path, Buffer.concat(chunks)))
    })
    this.server.on('connection', () => this.connections++)
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r))
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/repo/`
  }

  private handle(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void {
    const rel = path.replace(/^repo\/?/, '')
    if (req.method === 'POST' && rel === '') return void res.writeHead(200).end()
    if (req.method === 'GET' && rel.endsWith('/')) {
      if (rel === 'locks/') return void res.writeHead(404).end('not found')
      const names = [...this.files.keys()].filter((k) => k.startsWith(rel)).map((k) => k.slice(rel.length))
      names.push('not-an-id.tmp')
      return void res.writeHead(200, { 'content-type': 'application/vnd.x.restic.rest.v1' }).end(JSON.stringify(names))
    }
    const f = this.files.get(rel)
    if (req.method === 'POST') {
      this.files.set(rel, body)
      return void res.writeHead(200).end()
    }
    if (f === undefined) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found')
    if (req.method === 'HEAD') return void res.writeHead(200, { 'content-length': f.length }).end()
    if (req.method === 'DELETE') {
      this.files.delete(rel)
      return void res.writeHead(200).end()
    }
    // GET: ignores Range, always sends the whole file with 200
    res.writeHead(200, { 'content-length': f.length }).end(f)
  }

  async stop(): Promise<void> {
    this.server?.closeAllConnections()
    await new Promise((r) => this.server?.close(r))
  }
}

async function failure(p: Promise<unknown>): Promise<unknown> {
  return p.then(
    () => expect.fail('expected the call to fail'),
    (e: unknown) => e,
  )
}

async function backendFailure(p: Promise<unknown>): Promise<BackendError> {
  const err = await failure(p)
  expect(err).toBeInstanceOf(BackendError)
  return err as BackendError
}

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

describe('RestBackend protocol details (node:http test server)', () => {
  const server = new V1Server()
  let b: RestBackend
  beforeAll(async () => {
    await server.start()
    b = new RestBackend(server.url, { timeoutMs: 300, headConcurrency: 2 })
  })
  afterAll(async () => {
    await b?.close()
    await server.stop()
  })

  it('falls back to v1 listings (names, then HEAD for sizes) and treats a 404 listing as empty', async () => {
    await b.create()
    const ids: Id[] = []
    for (const s of ['a', 'bb', 'ccc']) {
      const d = enc(s.repeat(100))
      ids.push(hashId(d))
      await b.writeBytes('index', hashId(d), true, d)
    }
    server.requests.length = 0
    expect((await b.list('index')).sort()).toEqual([...ids].sort())
    expect(server.requests.filter((r) => r.startsWith('HEAD'))).toEqual([])
    const sizes = new Map(await b.listWithSize('index'))
    expect(sizes.size).toBe(3)
    for (const [i, id] of ids.entries()) expect(sizes.get(id)).toBe((i + 1) * 100)
    expect(server.requests.filter((r) => r.startsWith('HEAD')).length).toBe(3)
    expect(await b.list('lock')).toEqual([])
    expect(await b.listWithSize('lock')).toEqual([])
  })

  it('packs live flat under data/ and v2 Accept is sent', async () => {
    const d = enc('pack bytes')
    const id = hashId(d)
    await b.writeBytes('pack', id, false, d)
    expect(server.files.has(`data/${id}`)).toBe(true)
    let accept: string | undefined
    server.overrides.set('repo/data/', (req, res) => {
      accept = req.headers['accept']
      res.writeHead(200, { 'content-type': 'application/vnd.x.restic.rest.v2' }).end(JSON.stringify([{ name: id, size: 10 }]))
    })
    expect(await b.listWithSize('pack')).toEqual([[id, 10]])
    expect(accept).toBe('application/vnd.x.restic.rest.v2')
    server.overrides.delete('repo/data/')
  })

  it('slices ranged reads when the server ignores Range, and refuses reads past the end', async () => {
    const d = enc('0123456789')
    const id = hashId(d)
    await b.writeBytes('snapshot', id, true, d)
    expect(new TextDecoder().decode(await b.readPartial('snapshot', id, true, 3, 4))).toBe('3456')
    const err = await backendFailure(b.readPartial('snapshot', id, true, 8, 4))
    expect(err.backendKind).toBe('Invalid')
    expect(err.message).toContain('past the end')
  })

  it('checks the received length of 206 answers', async () => {
    const id = hashId(enc('short'))
    server.overrides.set(`repo/data/${id}`, (_req, res) => {
      // says the file has 100 bytes but sends 5 of the 10 asked for
      res.writeHead(206, { 'content-range': 'bytes 0-9/100' }).end('01234')
    })
    const err = await backendFailure(b.readPartial('pack', id, false, 0, 10))
    expect(err.backendKind).toBe('Network')
    expect(err.isTransient).toBe(true)
    server.overrides.set(`repo/data/${id}`, (_req, res) => {
      res.writeHead(206, { 'content-range': 'bytes 0-4/5' }).end('01234')
    })
    expect((await backendFailure(b.readPartial('pack', id, false, 0, 10))).backendKind).toBe('Invalid')
    server.overrides.set(`repo/data/${id}`, (_req, res) => {
      res.writeHead(200, { 'content-length': 10 })
      res.write('01234')
      setTimeout(() => res.destroy(), 20)
    })
    const cut = await backendFailure(b.readFull('pack', id))
    expect(cut.backendKind).toBe('Network')
    expect(cut.isTransient).toBe(true)
    server.overrides.delete(`repo/data/${id}`)
  })

  it('maps HTTP status codes to error kinds', async () => {
    const cases: Array<[number, string, boolean]> = [
      [404, 'NotFound', false],
      [401, 'PermissionDenied', false],
      [403, 'PermissionDenied', false],
      [400, 'Invalid', false],
      [405, 'Invalid', false],
      [411, 'Invalid', false],
      [416, 'Invalid', false],
      [409, 'Other', false],
      [500, 'Transient', true],
      [503, 'Transient', true],
      [507, 'Other', false],
    ]
    const id = hashId(enc('status'))
    for (const [status, kind, transient] of cases) {
      server.overrides.set(`repo/keys/${id}`, (_req, res) => res.writeHead(status, { 'content-type': 'text/plain' }).end(`status ${status}`))
      const err = await backendFailure(b.readFull('key', id))
      expect([status, err.backendKind, err.isTransient]).toEqual([status, kind, transient])
      expect(err.message).toContain(`GET key ${id}`)
      expect(err.message).toContain(`${status}`)
      expect(err.kind).toBe('Backend')
    }
    server.overrides.delete(`repo/keys/${id}`)
    expect(errorFromStatus(429, 'x', 'y').isTransient).toBe(true)
  })

  it('times out a silent server with a transient Network error', async () => {
    server.overrides.set('repo/config', () => {
      /* never answers */
    })
    const t0 = Date.now()
    const err = await backendFailure(b.readFull('config', CONFIG_ID))
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(err.backendKind).toBe('Network')
    expect(err.isTransient).toBe(true)
    expect(err.message).toContain('GET config')
    server.overrides.delete('repo/config')
  })

  it('honours abort signals, before and during a request', async () => {
    const id = hashId(enc('abort'))
    await expect(b.readFull('key', id, { signal: AbortSignal.abort() })).rejects.toMatchObject({ code: 'Aborted' })
    server.overrides.set(`repo/keys/${id}`, () => {
      /* never answers */
    })
    const slow = new RestBackend(server.url, { timeoutMs: 60_000 })
    const ac = new AbortController()
    setTimeout(() => ac.abort(), 50)
    const t0 = Date.now()
    const err = await failure(slow.readFull('key', id, { signal: ac.signal }))
    expect(Date.now() - t0).toBeLessThan(5000)
    expect(err).toBeInstanceOf(RusticError)
    expect((err as RusticError).code).toBe('Aborted')
    await slow.close()
    server.overrides.delete(`repo/keys/${id}`)
  })

  it('reuses kept-alive connections, at most `connections` at once', async () => {
    const first = server.connections
    const pooled = new RestBackend(server.url, { connections: 2 })
    const d = enc('reuse')
    const id = hashId(d)
    await pooled.writeBytes('snapshot', id, true, d)
    await pooled.readFull('snapshot', id)
    const warm = server.connections
    for (let i = 0; i < 10; i++) await pooled.readFull('snapshot', id)
    expect(server.connections, 'sequential requests reuse a connection').toBe(warm)
    await Promise.all(Array.from({ length: 20 }, () => pooled.readFull('snapshot', id)))
    expect(server.connections - first, 'never more than `connections` connections').toBeLessThanOrEqual(2)
    await pooled.close()
  })

  it('a refused connection is a transient Network error naming the location', async () => {
    const dead = new RestBackend('http://user:pw-never-shown@127.0.0.1:1/repo')
    const err = await backendFailure(dead.list('snapshot'))
    expect(err.backendKind).toBe('Network')
    expect(err.isTransient).toBe(true)
    expect(err.message).toContain('rest:http://user@127.0.0.1:1/repo/')
    expect(err.message).not.toContain('pw-never-shown')
    await dead.close()
  })
})

describe('parseRestUrl', () => {
  it('strips credentials into a Basic header and keeps the user in the location', () => {
    const u = parseRestUrl('rest:https://us%40er:p%3Ass@host.example:8000/some/repo')
    expect(u.baseUrl.href).toBe('https://host.example:8000/some/repo/')
    expect(u.location).toBe('rest:https://us%40er@host.example:8000/some/repo/')
    expect(Buffer.from(u.authorization!.slice('Basic '.length), 'base64').toString()).toBe('us@er:p:ss')
  })

  it('accepts URLs with and without a trailing slash, and without credentials', () => {
    expect(parseRestUrl('http://h:1/r/').baseUrl.href).toBe('http://h:1/r/')
    expect(parseRestUrl('http://h:1/r').baseUrl.href).toBe('http://h:1/r/')
    expect(parseRestUrl('http://h:1').location).toBe('rest:http://h:1/')
    expect(parseRestUrl('http://h:1').authorization).toBeUndefined()
  })

  it('rejects bad URLs without echoing a password', () => {
    for (const bad of ['ftp://u:topsecret@h/', 'not a url u:topsecret', 'http://u:topsecret@h/?x=1']) {
      let err: unknown
      try {
        parseRestUrl(bad)
      } catch (e) {
        err = e
      }
      expect(err).toBeInstanceOf(RusticError)
      expect((err as RusticError).kind).toBe('Configuration')
      expect((err as Error).message).not.toContain('topsecret')
    }
    expect(() => new RestBackend('http://h/', { connections: 0 })).toThrow(/connections/)
  })
})
