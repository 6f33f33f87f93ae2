import { randomBytes } from 'node:crypto'
import { readdir, stat, writeFile, mkdir } from 'node:fs/promises'
import { request, type ClientRequest } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { MemoryBackend } from '@rustic-ts/core'
import type { AccessLogEntry, RestServer } from '@rustic-ts/rest-server'
import { raw, sha256, startServer, tempDir, writeHtpasswd } from './helpers.js'

const V2 = 'application/vnd.x.restic.rest.v2'
const ALICE = 'alice:alice-pw'

/** Every file below `dir` (relative paths). */
async function filesUnder(dir: string): Promise<string[]> {
  const out: string[] = []
  for (const e of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) out.push(join(e.parentPath, e.name).slice(dir.length + 1))
  }
  return out.sort()
}

describe('createRestServer on a local directory', () => {
  let dir: { path: string; remove: () => Promise<void> }
  let root: string
  let rest: RestServer
  let port: number
  const log: AccessLogEntry[] = []

  beforeAll(async () => {
    dir = await tempDir()
    root = join(dir.path, 'root')
    await mkdir(root)
    // a secret next to the root that traversal must not reach
    await writeFile(join(dir.path, 'secret'), 'top secret')
    const htpasswdFile = await writeHtpasswd(dir.path, { alice: 'alice-pw', bob: 'bob-pw' })
    ;({ rest, port } = await startServer({ path: root, htpasswdFile, accessLog: (e) => log.push(e), metrics: true }))
  })
  afterAll(async () => {
    await rest.close()
    await dir.remove()
  })

  const req = (method: string, path: string, o: Parameters<typeof raw>[3] = {}): ReturnType<typeof raw> =>
    raw(port, method, path, { auth: ALICE, ...o })

  it('creates a repository in restic layout with private modes', async () => {
    expect((await req('POST', '/alice/')).status).toBe(400) // without ?create=true
    expect((await req('POST', '/alice/?create=true')).status).toBe(200)
    for (const d of ['data', 'index', 'keys', 'locks', 'snapshots', 'data/00', 'data/ff']) {
      const st = await stat(join(root, 'alice', d))
      expect(st.isDirectory()).toBe(true)
      expect(st.mode & 0o777, d).toBe(0o700)
    }
    expect((await req('GET', '/alice/')).status).toBe(405)
    expect((await req('GET', '/alice/')).headers['allow']).toBe('POST')
  })

  it('stores config once (403 on overwrite), unverified, 0600, and serves HEAD/GET', async () => {
    const config = randomBytes(155)
    expect((await req('HEAD', '/alice/config')).status).toBe(404)
    expect((await req('POST', '/alice/config', { body: config })).status).toBe(200)
    expect((await stat(join(root, 'alice', 'config'))).mode & 0o777).toBe(0o600)
    expect((await req('POST', '/alice/config', { body: randomBytes(155) })).status).toBe(403)
    const head = await req('HEAD', '/alice/config')
    expect([head.status, head.headers['content-length']]).toEqual([200, '155'])
    expect((await req('GET', '/alice/config')).body.equals(config)).toBe(true)
    expect((await req('PUT', '/alice/config')).status).toBe(405)
  })

  it('uploads files checked against their SHA-256 name, in data/xx, never overwritten', async () => {
    const data = randomBytes(300_000)
    const id = sha256(data)
    expect((await req('POST', `/alice/data/${id}`, { body: data })).status).toBe(200)
    const file = join(root, 'alice', 'data', id.slice(0, 2), id)
    expect((await stat(file)).mode & 0o777).toBe(0o600)
    expect((await req('POST', `/alice/data/${id}`, { body: data })).status).toBe(403)
    // a body that does not hash to its name is refused and leaves no file (not even a temp file)
    const before = await filesUnder(root)
    const wrong = randomBytes(1000)
    const wrongId = sha256(randomBytes(8))
    expect((await req('POST', `/alice/data/${wrongId}`, { body: wrong })).status).toBe(400)
    expect((await req('POST', `/alice/keys/${wrongId}`, { body: wrong })).status).toBe(400)
    expect(await filesUnder(root)).toEqual(before)
    // ids must be 64 lowercase hex
    expect((await req('POST', `/alice/data/${id.toUpperCase()}`, { body: data })).status).toBe(404)
    expect((await req('GET', `/alice/data/${id.slice(1)}`)).status).toBe(404)
  })

  it('lists v1 names or v2 names and sizes by the Accept header', async () => {
    const snap = randomBytes(500)
    const id = sha256(snap)
    expect((await req('POST', `/alice/snapshots/${id}`, { body: snap })).status).toBe(200)
    const v1 = await req('GET', '/alice/snapshots/')
    expect(v1.headers['content-type']).toBe('application/vnd.x.restic.rest.v1')
    expect(JSON.parse(v1.body.toString())).toEqual([id])
    const v2 = await req('GET', '/alice/snapshots/', { headers: { accept: V2 } })
    expect(v2.headers['content-type']).toBe(V2)
    expect(JSON.parse(v2.body.toString())).toEqual([{ name: id, size: 500 }])
    expect(JSON.parse((await req('GET', '/alice/locks/', { headers: { accept: V2 } })).body.toString())).toEqual([])
    const data = JSON.parse((await req('GET', '/alice/data/', { headers: { accept: V2 } })).body.toString()) as Array<{ size: number }>
    expect(data.map((d) => d.size)).toEqual([300_000])
    expect((await req('HEAD', '/alice/snapshots/')).status).toBe(405)
  })

  it('answers ranges with 206 and bad ranges with 416', async () => {
    const data = randomBytes(10_000)
    const id = sha256(data)
    await req('POST', `/alice/index/${id}`, { body: data })
    const part = await req('GET', `/alice/index/${id}`, { headers: { range: 'bytes=100-199' } })
    expect(part.status).toBe(206)
    expect(part.headers['content-range']).toBe('bytes 100-199/10000')
    expect(part.body.equals(data.subarray(100, 200))).toBe(true)
    const open = await req('GET', `/alice/index/${id}`, { headers: { range: 'bytes=9990-' } })
    expect([open.status, open.body.length]).toEqual([206, 10])
    const cut = await req('GET', `/alice/index/${id}`, { headers: { range: 'bytes=9000-20000' } })
    expect([cut.status, cut.body.length, cut.headers['content-range']]).toEqual([206, 1000, 'bytes 9000-9999/10000'])
    const bad = await req('GET', `/alice/index/${id}`, { headers: { range: 'bytes=20000-20010' } })
    expect([bad.status, bad.headers['content-range']]).toEqual([416, 'bytes */10000'])
    const whole = await req('GET', `/alice/index/${id}`)
    expect([whole.status, whole.body.equals(data)]).toEqual([200, true])
    const head = await req('HEAD', `/alice/index/${id}`)
    expect([head.status, head.headers['content-length']]).toEqual([200, '10000'])
  })

  it('deletes files; deleting a missing file succeeds', async () => {
    const data = randomBytes(700)
    const id = sha256(data)
    await req('POST', `/alice/locks/${id}`, { body: data })
    expect((await req('DELETE', `/alice/locks/${id}`)).status).toBe(200)
    expect((await req('GET', `/alice/locks/${id}`)).status).toBe(404)
    expect((await req('DELETE', `/alice/locks/${id}`)).status).toBe(200)
  })

  it('refuses wrong credentials with 401 and writes nothing', async () => {
    const before = await filesUnder(root)
    const data = randomBytes(100)
    const id = sha256(data)
    for (const auth of ['alice:wrong', 'nobody:alice-pw', undefined]) {
      const r = await raw(port, 'POST', `/alice/keys/${id}`, { body: data, ...(auth === undefined ? {} : { auth }) })
      expect(r.status, String(auth)).toBe(401)
      expect(r.headers['www-authenticate']).toMatch(/^Basic /)
      expect((await raw(port, 'POST', '/mallory/?create=true', auth === undefined ? {} : { auth })).status).toBe(401)
    }
    expect(await filesUnder(root)).toEqual(before)
  })

  it('refuses ../ and percent-encoded traversal and reads nothing outside the root', async () => {
    const paths = [
      '/../secret',
      '/alice/../../secret',
      '/%2e%2e/secret',
      '/%2E%2E/%2e%2e/config',
      '/alice/..%2f..%2fsecret',
      '/..%2fsecret/config',
      '/alice%2f..%2f..%2fsecret/config',
      '/.htpasswd/config',
      '/a/%00/config',
      '/%zz/config',
      '//config',
      '/a/b/c/config',
    ]
    for (const p of paths) {
      for (const method of ['GET', 'HEAD', 'POST', 'DELETE']) {
        const r = await req(method, p, method === 'POST' ? { body: Buffer.from('x') } : {})
        expect([400, 404, 405], `${method} ${p}`).toContain(r.status)
        expect(r.body.toString()).not.toContain('top secret')
      }
    }
    expect((await stat(join(dir.path, 'secret'))).size).toBe(10)
    expect(await readdir(dir.path)).toEqual(expect.arrayContaining(['secret', 'root', 'htpasswd']))
  })

  it('serves repositories two levels deep', async () => {
    expect((await req('POST', '/alice/laptop/?create=true')).status).toBe(200)
    const data = randomBytes(64)
    expect((await req('POST', `/alice/laptop/keys/${sha256(data)}`, { body: data })).status).toBe(200)
    expect(JSON.parse((await req('GET', '/alice/laptop/keys/')).body.toString())).toEqual([sha256(data)])
    expect((await stat(join(root, 'alice', 'laptop', 'keys', sha256(data)))).isFile()).toBe(true)
  })

  it('serves Prometheus metrics and logs requests without credentials', async () => {
    const m = await req('GET', '/metrics')
    expect(m.status).toBe(200)
    expect(m.body.toString()).toMatch(/rest_server_blob_write_total\{user="alice",repo="alice",type="data"\} 1/)
    expect((await raw(port, 'GET', '/metrics')).status).toBe(401)
    expect(log.length).toBeGreaterThan(10)
    const text = JSON.stringify(log)
    expect(text).not.toContain('alice-pw')
    expect(text).not.toContain(Buffer.from(ALICE).toString('base64'))
    const upload = log.find((e) => e.method === 'POST' && e.path.startsWith('/alice/data/') && e.status === 200)!
    expect(upload).toMatchObject({ user: 'alice', bytesIn: 300_000 })
    expect(upload.durationMs).toBeGreaterThanOrEqual(0)
  })
})

describe('createRestServer modes', () => {
  let dir: { path: string; remove: () => Promise<void> }
  beforeAll(async () => {
    dir = await tempDir()
  })
  afterAll(async () => {
    await dir.remove()
  })

  it('--private-repos: a user reaches only repositories under their own name', async () => {
    const htpasswdFile = await writeHtpasswd(dir.path, { alice: 'a', bob: 'b' })
    const root = join(dir.path, 'private')
    await mkdir(root)
    const { rest, port } = await startServer({ path: root, htpasswdFile, privateRepos: true })
    try {
      expect((await raw(port, 'POST', '/bob/?create=true', { auth: 'bob:b' })).status).toBe(200)
      expect((await raw(port, 'POST', '/bob/work/?create=true', { auth: 'bob:b' })).status).toBe(200)
      expect((await raw(port, 'GET', '/bob/keys/', { auth: 'bob:b' })).status).toBe(200)
      expect((await raw(port, 'GET', '/bob/keys/', { auth: 'alice:a' })).status).toBe(401)
      expect((await raw(port, 'GET', '/bob/work/keys/', { auth: 'alice:a' })).status).toBe(401)
      expect((await raw(port, 'GET', '/bob/config', { auth: 'alice:a' })).status).toBe(401)
      expect((await raw(port, 'POST', '/?create=true', { auth: 'alice:a' })).status).toBe(401)
      expect((await raw(port, 'GET', '/keys/', { auth: 'alice:a' })).status).toBe(401)
    } finally {
      await rest.close()
    }
  })

  it('--append-only refuses DELETE but of locks; read-only refuses writes but of locks', async () => {
    const backend = new MemoryBackend()
    const { rest, port } = await startServer({ backend, noAuth: true, appendOnly: true })
    const data = randomBytes(50)
    const id = sha256(data)
    try {
      expect((await raw(port, 'POST', '/?create=true')).status).toBe(200)
      for (const t of ['data', 'keys', 'snapshots', 'index', 'locks']) {
        expect((await raw(port, 'POST', `/${t}/${id}`, { body: data })).status).toBe(200)
      }
      for (const t of ['data', 'keys', 'snapshots', 'index']) expect((await raw(port, 'DELETE', `/${t}/${id}`)).status, t).toBe(403)
      expect((await raw(port, 'DELETE', '/config')).status).toBe(403)
      expect((await raw(port, 'DELETE', `/locks/${id}`)).status).toBe(200)
      expect((await backend.list('pack')).length).toBe(1)
    } finally {
      await rest.close()
    }
    const ro = await startServer({ backend, noAuth: true, readOnly: true })
    try {
      expect((await raw(ro.port, 'POST', '/?create=true')).status).toBe(403)
      expect((await raw(ro.port, 'POST', `/index/${sha256(Buffer.from('x'))}`, { body: Buffer.from('x') })).status).toBe(403)
      expect((await raw(ro.port, 'DELETE', `/data/${id}`)).status).toBe(403)
      expect((await raw(ro.port, 'GET', `/data/${id}`)).body.equals(data)).toBe(true)
      expect((await raw(ro.port, 'POST', `/locks/${id}`, { body: data })).status).toBe(200)
      expect((await raw(ro.port, 'DELETE', `/locks/${id}`)).status).toBe(200)
    } finally {
      await ro.rest.close()
    }
  })

  it('--max-size: uploads beyond the per-repository quota get 507; the request size limit 413', async () => {
    const root = join(dir.path, 'quota')
    await mkdir(root)
    const { rest, port } = await startServer({ path: root, noAuth: true, maxSize: 10_000, maxRequestSize: 6_000 })
    try {
      for (const r of ['a', 'b']) {
        expect((await raw(port, 'POST', `/${r}/?create=true`)).status).toBe(200)
        const d1 = randomBytes(5_000)
        expect((await raw(port, 'POST', `/${r}/data/${sha256(d1)}`, { body: d1 })).status).toBe(200)
        const d2 = randomBytes(5_500)
        expect((await raw(port, 'POST', `/${r}/data/${sha256(d2)}`, { body: d2 })).status).toBe(507)
        // removing frees space
        expect((await raw(port, 'DELETE', `/${r}/data/${sha256(d1)}`)).status).toBe(200)
        expect((await raw(port, 'POST', `/${r}/data/${sha256(d2)}`, { body: d2 })).status).toBe(200)
      }
      const big = randomBytes(7_000)
      expect((await raw(port, 'POST', `/c/data/${sha256(big)}`, { body: big })).status).toBe(413)
    } finally {
      await rest.close()
    }
  })

  it('serves a custom backend per repository path and 404s paths it has no backend for', async () => {
    const backends = new Map([['x', new MemoryBackend()]])
    const { rest, port } = await startServer({ backend: (p) => backends.get(p.join('/')), noAuth: true })
    try {
      const data = randomBytes(2000)
      const id = sha256(data)
      expect((await raw(port, 'POST', `/x/data/${id}`, { body: data })).status).toBe(200)
      expect([...(await backends.get('x')!.readFull('pack', id as never))]).toEqual([...data])
      const part = await raw(port, 'GET', `/x/data/${id}`, { headers: { range: 'bytes=10-19' } })
      expect([part.status, part.headers['content-range'], part.body.equals(data.subarray(10, 20))]).toEqual([206, 'bytes 10-19/*', true])
      const past = await raw(port, 'GET', `/x/data/${id}`, { headers: { range: 'bytes=1990-2100' } })
      expect([past.status, past.body.equals(data.subarray(1990))]).toEqual([206, true])
      expect((await raw(port, 'GET', `/x/data/${id}`, { headers: { range: 'bytes=5000-5001' } })).status).toBe(416)
      expect((await raw(port, 'HEAD', `/x/data/${id}`)).headers['content-length']).toBe('2000')
      expect((await raw(port, 'GET', '/y/keys/')).status).toBe(404)
    } finally {
      await rest.close()
    }
  })

  it('an upload cut off by the client leaves no file and no temp file', async () => {
    const root = join(dir.path, 'cutoff')
    await mkdir(root)
    const log: AccessLogEntry[] = []
    const { rest, port } = await startServer({ path: root, noAuth: true, accessLog: (e) => log.push(e) })
    expect((await raw(port, 'POST', '/r/?create=true')).status).toBe(200)
    const before = await filesUnder(root)
    const data = randomBytes(3_000_000)
    const id = sha256(data)
    await new Promise<void>((resolve) => {
      const r = request({ host: '127.0.0.1', port, method: 'POST', path: `/r/data/${id}`, headers: { 'content-length': String(data.length) } })
      r.on('error', () => resolve())
      r.write(data.subarray(0, 2_000_000), () => setTimeout(() => r.destroy(), 200))
    })
    // close() waits until the server has handled (aborted) the upload
    await rest.close()
    const entry = log.find((e) => e.method === 'POST' && e.path === `/r/data/${id}`)!
    expect(entry.status).toBe(0)
    expect(entry.bytesIn).toBeGreaterThan(0)
    expect(await filesUnder(root)).toEqual(before)
  })

  it('graceful shutdown lets an upload in progress finish and refuses new requests', async () => {
    const root = join(dir.path, 'shutdown')
    await mkdir(root)
    const { rest, port } = await startServer({ path: root, noAuth: true })
    expect((await raw(port, 'POST', '/r/?create=true')).status).toBe(200)
    const data = randomBytes(200_000)
    const id = sha256(data)
    // the server has the upload's request (its headers parsed, the handler called) before close() is called
    const received = new Promise((r) => rest.server.once('request', r))
    let upload: ClientRequest | undefined
    const answer = new Promise<number>((resolve, reject) => {
      upload = request(
        { host: '127.0.0.1', port, method: 'POST', path: `/r/data/${id}`, headers: { 'content-length': String(data.length) } },
        (res) => {
          res.resume()
          resolve(res.statusCode ?? 0)
        },
      )
      upload.on('error', reject)
      upload.write(data.subarray(0, 1000))
    })
    await received
    const closed = rest.close()
    // the rest of the upload arrives after close() was called
    setTimeout(() => upload!.end(data.subarray(1000)), 100)
    expect(await answer).toBe(200)
    await closed
    expect((await stat(join(root, 'r', 'data', id.slice(0, 2), id))).size).toBe(200_000)
    await expect(raw(port, 'GET', '/r/keys/')).rejects.toThrow()
  })
})
