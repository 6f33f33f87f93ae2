import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BackendError, CONFIG_ID, RusticError, hashId } from '@rustic-ts/core'
import type { FileType } from '@rustic-ts/core'
import { OpenDalBackend } from '@rustic-ts/backend-opendal'
import { parseOpenDalError } from '../src/mapOpenDalError.js'
import { freePort, s3rverOptions, startS3rver } from './servers.js'
import type { TestServer } from './servers.js'

const run = promisify(execFile)

async function caught(p: Promise<unknown>): Promise<BackendError> {
  try {
    await p
  } catch (err) {
    expect(err).toBeInstanceOf(BackendError)
    return err as BackendError
  }
  throw new Error('expected the call to fail')
}

describe('OpenDalBackend errors', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rustic-ts-opendal-err-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('maps a missing file to NotFound naming the file', async () => {
    const be = new OpenDalBackend('fs', { root: dir })
    const id = hashId(Buffer.from('x'))
    const err = await caught(be.readFull('snapshot', id))
    expect(err.backendKind).toBe('NotFound')
    expect(err.isTransient).toBe(false)
    expect(err.message).toContain(`snapshot ${id}`)
    expect(err.message).toContain(`opendal:fs:${dir}`)
  })

  it('parses opendal error strings', () => {
    const p = parseOpenDalError(
      'NotFound (permanent) at stat, context: { service: memory, path: nope } => memory doesn\'t have this path',
    )
    expect(p).toMatchObject({ kind: 'NotFound', status: 'permanent', operation: 'stat', detail: "memory doesn't have this path" })
  })

  it('maps a refused connection to a transient Network error, without secrets', async () => {
    const port = await freePort() // nothing listens there
    const be = new OpenDalBackend(
      'webdav',
      { endpoint: `http://alice:hunter2pw@127.0.0.1:${port}`, root: '/r', username: 'alice', password: 'hunter2pw' },
      { retries: 0 },
    )
    expect(be.location()).toBe('opendal:webdav:/r')
    const err = await caught(be.readFull('index', hashId(Buffer.from('y'))))
    expect(err.backendKind).toBe('Network')
    expect(err.isTransient).toBe(true)
    expect(err.message).not.toContain('hunter2pw')
    expect(String((err.cause as Error).message)).not.toContain('hunter2pw')
  })

  it('retries temporary errors with the RetryLayer', async () => {
    const port = await freePort()
    const opts = { endpoint: `http://127.0.0.1:${port}`, root: '/r' }
    const id = hashId(Buffer.from('z'))
    const t0 = performance.now()
    await caught(new OpenDalBackend('webdav', opts, { retries: 0 }).readFull('index', id))
    const noRetry = performance.now() - t0
    const t1 = performance.now()
    const err = await caught(
      new OpenDalBackend('webdav', opts, { retries: 3, retryMinDelayMs: 100, retryMaxDelayMs: 100 }).readFull('index', id),
    )
    const withRetry = performance.now() - t1
    expect(err.isTransient).toBe(true)
    expect(err.message).toMatch(/persistent/) // opendal marks errors that survived its retries
    expect(withRetry).toBeGreaterThan(noRetry + 250) // three waits of ~100 ms (jitter adds up to 100 ms)
  })

  it('reads retry and connections from the service options, rejecting bad values', () => {
    const be = new OpenDalBackend('memory', { retry: 'off', connections: '4' })
    expect(be.options.retries).toBe(0)
    expect(be.options.concurrency).toBe(4)
    expect(new OpenDalBackend('memory', { retry: '7' }, { retries: 2 }).options.retries).toBe(2)
    expect(() => new OpenDalBackend('memory', { connections: 'many' })).toThrow(RusticError)
  })

  it('rejects an unknown service as Invalid', () => {
    let err: unknown
    try {
      new OpenDalBackend('no-such-service', {})
    } catch (e) {
      err = e
    }
    expect(err).toBeInstanceOf(BackendError)
    expect((err as BackendError).backendKind).toBe('Invalid')
  })
})

describe('OpenDalBackend on s3rver', () => {
  let server: TestServer
  beforeAll(async () => {
    server = await startS3rver(['bkt'])
  })
  afterAll(async () => {
    await server?.stop()
  })

  it('hides the keys in location() and errors; a missing bucket is Invalid', async () => {
    const opts = { ...s3rverOptions(server.port, 'bkt', '/repo'), secret_access_key: 'very-secret-key' }
    const be = new OpenDalBackend('s3', opts)
    expect(be.location()).toBe('opendal:s3:bkt/repo')
    const missing = new OpenDalBackend('s3', { ...opts, bucket: 'no-such-bucket' }, { retries: 0 })
    const err = await caught(missing.readFull('key', hashId(Buffer.from('k'))))
    expect(err.backendKind).toBe('Invalid')
    expect(err.message).toContain('NoSuchBucket')
    expect(err.message).not.toContain('very-secret-key')
  })

  it('lists packs that only exist under data/xx/ (no directory markers)', async () => {
    const be = new OpenDalBackend('s3', s3rverOptions(server.port, 'bkt', '/nomarkers'))
    const data = [Buffer.from('pack one'), Buffer.from('pack two'), Buffer.from('pack three')]
    for (const d of data) await be.writeBytes('pack', hashId(d), false, d)
    expect((await be.list('pack')).sort()).toEqual(data.map((d) => hashId(d)).sort())
    expect(new Map(await be.listWithSize('pack')).get(hashId(data[2]!))).toBe(data[2]!.length)
  })
})

describe('OpenDalBackend on a repository written by restic', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rustic-ts-opendal-restic-'))
    await writeFile(join(dir, 'pw'), 'secret\n')
    await writeFile(join(dir, 'file.txt'), 'hello from restic\n')
    const env = { ...process.env, RESTIC_PASSWORD_FILE: join(dir, 'pw'), RESTIC_REPOSITORY: join(dir, 'repo') }
    await run('restic', ['init'], { env })
    await run('restic', ['backup', '--no-cache', join(dir, 'file.txt')], { env })
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('lists and reads what restic wrote', async () => {
    const root = join(dir, 'repo')
    const be = new OpenDalBackend('fs', { root })
    expect(await be.list('config')).toEqual([CONFIG_ID])
    const dirs: Record<Exclude<FileType, 'config' | 'pack'>, string> = {
      key: 'keys',
      snapshot: 'snapshots',
      index: 'index',
      lock: 'locks',
    }
    for (const [type, name] of Object.entries(dirs) as Array<[FileType, string]>) {
      expect((await be.list(type)).sort(), type).toEqual((await readdir(join(root, name))).sort())
    }
    const packs = await be.listWithSize('pack')
    expect(packs.length).toBeGreaterThan(0)
    for (const [id, size] of packs) {
      expect(size).toBe((await stat(join(root, 'data', id.slice(0, 2), id))).size)
      expect(hashId(await be.readFull('pack', id))).toBe(id)
    }
    const [snap] = await be.list('snapshot')
    expect(hashId(await be.readFull('snapshot', snap!))).toBe(snap)
  })
})

describe('OpenDalBackend s3legacy layout', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rustic-ts-opendal-s3legacy-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('detects it by itself (key/ with a key file, no keys/) and keeps packs flat in data/', async () => {
    const made = new OpenDalBackend('fs', { root: dir, layout: 's3legacy' })
    await made.create()
    expect((await readdir(dir)).filter((n) => !n.startsWith('.')).sort()).toEqual(['data', 'index', 'key', 'lock', 'snapshot'])
    const key = Buffer.from('{"k":1}')
    await made.writeBytes('key', hashId(key), false, key)
    const be = new OpenDalBackend('fs', { root: dir })
    expect(await be.layout()).toBe('s3legacy')
    expect(await be.list('key')).toEqual([hashId(key)])
    const pack = Buffer.from('a pack')
    await be.writeBytes('pack', hashId(pack), false, pack)
    expect(await readdir(join(dir, 'data'))).toEqual([hashId(pack)])
    expect(await be.listWithSize('pack')).toEqual([[hashId(pack), pack.length]])
    expect(Buffer.from(await be.readPartial('pack', hashId(pack), false, 2, 4)).toString()).toBe('pack')
    await be.remove('pack', hashId(pack), false)
    expect(await be.list('pack')).toEqual([])
    expect(await new OpenDalBackend('fs', { root: join(dir, 'none') }).layout()).toBe('default')
  })
})
