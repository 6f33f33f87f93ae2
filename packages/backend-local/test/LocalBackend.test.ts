import { mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { BackendError, CONFIG_ID, hashId, type Id } from '@rustic-ts/core'
import { LocalBackend } from '@rustic-ts/backend-local'
import { fsError } from '../src/fsError.js'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rustic-ts-local-'))
})
afterEach(async () => {
  await rm(dir, { recursive: true, force: true })
})

const mode = async (p: string): Promise<number> => (await stat(p)).mode & 0o777

describe('LocalBackend layout', () => {
  it('create() makes restic layout with 0700 dirs, 256 data dirs, idempotently', async () => {
    const repo = join(dir, 'repo')
    const b = new LocalBackend(repo)
    await b.create()
    await b.create()
    expect((await readdir(repo)).sort()).toEqual(['data', 'index', 'keys', 'locks', 'snapshots'])
    const data = (await readdir(join(repo, 'data'))).sort()
    expect(data.length).toBe(256)
    expect(data[0]).toBe('00')
    expect(data[255]).toBe('ff')
    for (const d of ['', 'data', 'keys', 'data/ab']) expect(await mode(join(repo, d))).toBe(0o700)
    expect(b.location()).toBe(`local:${repo}`)
  })

  it('writes files 0600 at restic paths and leaves no temp files', async () => {
    const b = new LocalBackend(join(dir, 'repo'))
    await b.create()
    const data = new TextEncoder().encode('hello pack')
    const id = hashId(data)
    await b.writeBytes('pack', id, false, data)
    await b.writeBytes('config', CONFIG_ID, false, data)
    const p = join(dir, 'repo', 'data', id.slice(0, 2), id)
    expect(await readFile(p, 'utf8')).toBe('hello pack')
    expect(await mode(p)).toBe(0o600)
    expect(await mode(join(dir, 'repo', 'config'))).toBe(0o600)
    expect(await readdir(join(dir, 'repo', 'data', id.slice(0, 2)))).toEqual([id])
    expect(b.fullPath('pack', id)).toBe(p)
  })

  it('list ignores temp files, odd names and directories', async () => {
    const b = new LocalBackend(join(dir, 'repo'))
    await b.create()
    const id = hashId(new Uint8Array([1]))
    await b.writeBytes('snapshot', id, true, new Uint8Array([1]))
    const snaps = join(dir, 'repo', 'snapshots')
    await writeFile(join(snaps, `${id}-tmp-123456`), 'x')
    await writeFile(join(snaps, 'README'), 'x')
    await writeFile(join(snaps, id.toUpperCase()), 'x')
    await writeFile(join(dir, 'repo', 'data', 'ab', 'not-an-id'), 'x')
    expect(await b.list('snapshot')).toEqual([id])
    expect(await b.listWithSize('snapshot')).toEqual([[id, 1]])
    expect(await b.list('pack')).toEqual([])
  })

  it('a missing repository lists nothing and its config is NotFound', async () => {
    const b = new LocalBackend(join(dir, 'nope'))
    for (const t of ['config', 'key', 'snapshot', 'index', 'pack'] as const) expect(await b.list(t)).toEqual([])
    expect(await b.listWithSize('pack')).toEqual([])
    const err = await b.readFull('config', CONFIG_ID).catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BackendError)
    expect((err as BackendError).backendKind).toBe('NotFound')
    expect((err as BackendError).message).toContain(join(dir, 'nope', 'config'))
  })

  it('writes into a missing data/xx directory (repository made without it)', async () => {
    const b = new LocalBackend(join(dir, 'repo'))
    const data = new Uint8Array([9, 9, 9])
    const id = hashId(data)
    await b.writeBytes('pack', id, false, data)
    expect(await b.list('pack')).toEqual([id])
  })

  it('a short file makes readPartial throw a non-transient error naming the file', async () => {
    const b = new LocalBackend(join(dir, 'repo'))
    await b.create()
    const data = new Uint8Array(100)
    const id = hashId(data)
    await b.writeBytes('index', id, true, data)
    const err = (await b.readPartial('index', id, true, 90, 20).catch((e: unknown) => e)) as BackendError
    expect(err).toBeInstanceOf(BackendError)
    expect(err.isTransient).toBe(false)
    expect(err.message).toContain(id)
    await expect(b.readPartial('index', id, true, -1, 2)).rejects.toThrow(/invalid range/)
  })

  it('localPath names the file whose bytes readPartial reads', async () => {
    const b = new LocalBackend(join(dir, 'repo'))
    await b.create()
    const data = Uint8Array.from({ length: 50 }, (_, i) => i * 3)
    const id = hashId(data)
    await b.writeBytes('pack', id, false, data)
    const path = await b.localPath('pack', id)
    expect([...(await readFile(path))]).toEqual([...(await b.readPartial('pack', id, false, 0, 50))])
  })

  it('readPartial reads into the buffer given as `into` when it is large enough, else into a new one', async () => {
    const b = new LocalBackend(join(dir, 'repo'))
    await b.create()
    const data = Uint8Array.from({ length: 100 }, (_, i) => i)
    const id = hashId(data)
    await b.writeBytes('pack', id, false, data)
    const into = new Uint8Array(64).fill(255)
    const got = await b.readPartial('pack', id, false, 10, 20, { into })
    expect(got.buffer).toBe(into.buffer)
    expect(got.byteOffset).toBe(0)
    expect([...got]).toEqual([...data.subarray(10, 30)])
    expect(into[20]).toBe(255) // nothing written past the range
    const small = new Uint8Array(8)
    const own = await b.readPartial('pack', id, false, 0, 20, { into: small })
    expect(own.buffer).not.toBe(small.buffer)
    expect([...own]).toEqual([...data.subarray(0, 20)])
  })

  it('maps fs error codes to BackendError kinds', () => {
    const e = (code: string): NodeJS.ErrnoException => Object.assign(new Error(code), { code })
    expect(fsError(e('ENOENT'), 'x').backendKind).toBe('NotFound')
    expect(fsError(e('EACCES'), 'x').backendKind).toBe('PermissionDenied')
    expect(fsError(e('EPERM'), 'x').backendKind).toBe('PermissionDenied')
    expect(fsError(e('EEXIST'), 'x').backendKind).toBe('AlreadyExists')
    const eio = fsError(e('EIO'), 'cannot read pack 12')
    expect(eio.backendKind).toBe('Other')
    expect(eio.isTransient).toBe(false)
    expect(eio.message).toBe('cannot read pack 12: EIO (input/output error)')
    expect(fsError(e('EMFILE'), 'x').isTransient).toBe(true)
  })

  it('writes a pack piece by piece: named on commit (a missing data/xx made), 0600, no temp file; abort drops it', async () => {
    const b = new LocalBackend(join(dir, 'repo'))
    const parts = [new TextEncoder().encode('hello '), new TextEncoder().encode('streamed '), new TextEncoder().encode('pack')]
    const id = hashId(Buffer.concat(parts))
    const w = (await b.openFileWriter('pack', false))!
    for (const part of parts) await w.write(part)
    expect(await b.list('pack')).toEqual([]) // nothing visible before the commit
    await w.commit(id)
    const p = join(dir, 'repo', 'data', id.slice(0, 2), id)
    expect(await readFile(p, 'utf8')).toBe('hello streamed pack')
    expect(await mode(p)).toBe(0o600)
    expect(await b.list('pack')).toEqual([id])
    const dropped = (await b.openFileWriter('pack', false))!
    await dropped.write(parts[0]!)
    await dropped.abort()
    const files = (await readdir(join(dir, 'repo', 'data'), { recursive: true, withFileTypes: true })).filter((e) => !e.isDirectory())
    expect(files.map((e) => e.name)).toEqual([id])
    expect(await b.openFileWriter('config', false)).toBeUndefined()
  })

  it('runs post-create and post-delete commands with %file %type %id', async () => {
    const log = join(dir, 'hook.log')
    const hook = `sh -c 'echo "$0 $1 $2 $3" >> "${log}"' %type %id %file`
    const warnings: string[] = []
    const b = new LocalBackend(join(dir, 'repo'), {
      postCreateCommand: `${hook} created`,
      postDeleteCommand: `${hook} deleted`,
      onWarning: (m) => warnings.push(m),
    })
    await b.create()
    const data = new Uint8Array([4, 2])
    const id = hashId(data)
    await b.writeBytes('pack', id, false, data)
    await b.remove('pack', id, false)
    const lines = (await readFile(log, 'utf8')).trim().split('\n')
    expect(lines).toEqual([
      `data ${id} ${b.fullPath('pack', id)} created`,
      `data ${id} ${b.fullPath('pack', id)} deleted`,
    ])
    expect(warnings).toEqual([])
    const failing = new LocalBackend(join(dir, 'repo'), { postCreateCommand: 'false %file', onWarning: (m) => warnings.push(m) })
    await failing.writeBytes('key', id, true, data)
    expect(warnings.length).toBe(1)
    expect(warnings[0]).toMatch(/post-create command.*exited with code 1/)
    const fatal = new LocalBackend(join(dir, 'repo'), { postCreateCommand: 'false %file', hookErrorsAreFatal: true })
    await expect(fatal.writeBytes('key', id, true, data)).rejects.toMatchObject({ kind: 'ExternalCommand' })
  })

  it('rejects invalid options', () => {
    expect(() => new LocalBackend(dir, { statConcurrency: 0 })).toThrow(/statConcurrency/)
    expect(() => new LocalBackend('')).toThrow(/empty/)
  })
})

describe('LocalBackend s3legacy layout', () => {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

  it('is detected by itself when key/ holds a key file and keys/ none; packs are flat in data/', async () => {
    const repo = join(dir, 'repo')
    const made = new LocalBackend(repo, { layout: 's3legacy' })
    await made.create()
    expect((await readdir(repo)).sort()).toEqual(['data', 'index', 'key', 'lock', 'snapshot'])
    expect(await readdir(join(repo, 'data'))).toEqual([])
    const key = enc('{"key":1}')
    await made.writeBytes('key', hashId(key), false, key)

    const b = new LocalBackend(repo)
    expect(await b.layout()).toBe('s3legacy')
    expect(await b.list('key')).toEqual([hashId(key)])
    const pack = enc('a pack')
    await b.writeBytes('pack', hashId(pack), false, pack)
    expect(await readFile(join(repo, 'data', hashId(pack)), 'utf8')).toBe('a pack')
    expect(b.fullPath('pack', hashId(pack))).toBe(join(repo, 'data', hashId(pack)))
    const w = (await b.openFileWriter('pack', false))!
    const streamed = enc('streamed pack')
    await w.write(streamed)
    await w.commit(hashId(streamed))
    expect((await b.list('pack')).sort()).toEqual([hashId(pack), hashId(streamed)].sort())
    expect(await b.listWithSize('pack')).toContainEqual([hashId(streamed), streamed.length])
    expect(await b.readPartial('pack', hashId(pack), false, 2, 4)).toEqual(enc('pack'))
    await b.remove('pack', hashId(pack), false)
    expect(await b.list('pack')).toEqual([hashId(streamed)])
    expect((await readdir(repo)).sort()).toEqual(['data', 'index', 'key', 'lock', 'snapshot'])
  })

  it('is not chosen for an empty directory, nor when both keys/ and key/ hold key files (as restic)', async () => {
    const repo = join(dir, 'repo')
    expect(await new LocalBackend(repo).layout()).toBe('default')
    const key = enc('{"key":2}')
    await new LocalBackend(repo, { layout: 's3legacy' }).writeBytes('key', hashId(key), false, key)
    await new LocalBackend(repo, { layout: 'default' }).writeBytes('key', hashId(key), false, key)
    expect(await new LocalBackend(repo).layout()).toBe('default')
    expect(() => new LocalBackend(repo, { layout: 'flat' as never })).toThrow(/layout/)
  })
})

const errorOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

describe('LocalBackend: damage, left-overs and file system errors', () => {
  it('a read past the end of a file names the size the file has', async () => {
    const be = new LocalBackend(join(dir, 'repo'))
    await be.create()
    const data = new Uint8Array(1000).fill(7)
    const id = hashId(data)
    await be.writeBytes('pack', id, false, data)
    for (const [offset, length] of [[5000, 200], [800, 500], [1000, 1]]) {
      const err = await errorOf(be.readPartial('pack', id, false, offset!, length!))
      expect((err as Error).message).toBe(
        `cannot read ${length} bytes at offset ${offset} of pack ${id} at ${be.fullPath('pack', id)}: the file is only 1000 bytes long`,
      )
    }
  })

  it('removeStaleTempFiles removes only temp files older than asked, in every folder of the layout', async () => {
    const be = new LocalBackend(join(dir, 'repo'))
    await be.create()
    const data = new Uint8Array(10).fill(1)
    const id = hashId(data)
    await be.writeBytes('pack', id, false, data)
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000)
    const stale = [join(dir, 'repo', 'data', 'ab', 'new-tmp-0123456789ab'), join(dir, 'repo', 'index', `${id}-tmp-99`), join(dir, 'repo', 'config-tmp-1')]
    const fresh = join(dir, 'repo', 'data', 'cd', 'new-tmp-fresh')
    for (const p of [...stale, fresh]) await writeFile(p, 'partial pack')
    for (const p of stale) await utimes(p, old, old)
    const notTemp = join(dir, 'repo', 'data', 'ab', 'README')
    await writeFile(notTemp, 'not ours')
    await utimes(notTemp, old, old)
    expect(await be.removeStaleTempFiles(24 * 3600 * 1000)).toBe(3)
    expect(await readdir(join(dir, 'repo', 'data', 'ab'))).toEqual(['README'])
    expect(await readdir(join(dir, 'repo', 'data', 'cd'))).toEqual(['new-tmp-fresh'])
    expect(await be.list('pack')).toEqual([id as Id])
    expect(await be.removeStaleTempFiles(24 * 3600 * 1000)).toBe(0)
  })

  it('removeStaleTempFiles takes the pack folders\' temp files from a recent pack listing instead of listing them again', async () => {
    const be = new LocalBackend(join(dir, 'repo'))
    await be.create()
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000)
    const day = 24 * 3600 * 1000
    const before = join(dir, 'repo', 'data', 'ab', 'new-tmp-before')
    await writeFile(before, 'partial pack')
    await utimes(before, old, old)
    expect(await be.listWithSize('pack')).toEqual([])
    // made after the listing: a real leftover would be younger than the listing, so it is not looked at
    const after = join(dir, 'repo', 'data', 'cd', 'new-tmp-after')
    const outside = join(dir, 'repo', 'index', 'x-tmp-after')
    for (const p of [after, outside]) {
      await writeFile(p, 'partial')
      await utimes(p, old, old)
    }
    expect(await be.removeStaleTempFiles(day)).toBe(2) // the one the listing saw, and the index folder's (listed now)
    expect(await readdir(join(dir, 'repo', 'data', 'ab'))).toEqual([])
    expect(await readdir(join(dir, 'repo', 'data', 'cd'))).toEqual(['new-tmp-after'])
    // a listing older than the age asked for is not used: every folder is listed
    await new Promise((resolve) => setTimeout(resolve, 5))
    expect(await be.removeStaleTempFiles(1)).toBe(1)
    expect(await readdir(join(dir, 'repo', 'data', 'cd'))).toEqual([])
  })

  it('create() where a directory cannot be made fails with the reason (Node\'s recursive mkdir never returns under /proc)', async () => {
    const err = await errorOf(new LocalBackend('/proc/rustic-ts-no-such-dir/repo').create())
    expect((err as Error).message).toMatch(/^cannot create directory \/proc\/rustic-ts-no-such-dir(\/repo)?: /)
  }, 20_000)

  it('create() names the error of a parent that cannot be made, not ENOENT', async () => {
    await writeFile(join(dir, 'file'), 'x')
    const err = await errorOf(new LocalBackend(join(dir, 'file', 'a', 'repo')).create())
    expect((err as Error).message).toBe(`cannot create directory ${join(dir, 'file', 'a', 'repo')}: ENOTDIR (a part of the path is not a directory)`)
  })
})
