import { createHash, randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONFIG_ID, hashId, isBackendError, type BackendError } from '@rustic-ts/core'
import type { BackendErrorKind, FileType, Id, WriteBackend } from '@rustic-ts/core'

/** What a conformance setup returns: the backend and how to clean up after it. */
export interface BackendUnderTest {
  /** A backend over **empty** storage (the suite calls `create()` itself and expects no files). */
  backend: WriteBackend
  /** Called after all checks (after `backend.close()`), e.g. to delete a temp dir or stop a server. */
  cleanup?: () => Promise<void>
  /** Strings that must not appear in `location()` (passwords, tokens), checked by `location`. */
  secrets?: string[]
}

/**
 * The names of the checks {@link describeBackendConformance} runs, in order; pass some in
 * `ConformanceOptions.skip` to leave them out:
 * - `create`: `create()` is idempotent, a fresh repository lists no files, files survive a second `create()`.
 * - `config`: config missing -> `list('config')` is `[]`; written config reads back; list is `[CONFIG_ID]`.
 * - `write-list`: files of every type (key, snapshot, index, pack, lock) are listed with correct sizes.
 * - `read-full`: every written file reads back byte for byte.
 * - `read-partial`: ranged reads at the start, middle, end, and of the whole file.
 * - `read-partial-zero`: ranged reads of zero bytes (inside the file and at its end) return no bytes.
 * - `read-partial-past-end`: ranged reads beyond the end of a file throw.
 * - `overwrite`: the config can be overwritten; rewriting a file with the same bytes succeeds.
 * - `remove`: a removed file is no longer listed and reading it throws a `NotFound` BackendError.
 * - `remove-missing`: removing a missing file throws a `NotFound` BackendError.
 * - `read-missing`: `readFull`/`readPartial` of a missing file throw a `NotFound` BackendError.
 * - `buffer-isolation`: changing a buffer after `writeBytes` or after a read does not change stored data.
 * - `abort`: calls with an already aborted `AbortSignal` reject.
 * - `concurrency`: many concurrent writes, reads and removes keep every byte right.
 * - `large-file`: a large random file round-trips (SHA-256 compared), also by a ranged read.
 * - `list-exact`: every type lists exactly the ids written and not removed, with their sizes.
 * - `location`: `location()` is a non-empty string without credentials.
 */
export const CONFORMANCE_CHECKS = [
  'create',
  'config',
  'write-list',
  'read-full',
  'read-partial',
  'read-partial-zero',
  'read-partial-past-end',
  'overwrite',
  'remove',
  'remove-missing',
  'read-missing',
  'buffer-isolation',
  'abort',
  'concurrency',
  'large-file',
  'list-exact',
  'location',
] as const

/** The name of one conformance check (see {@link CONFORMANCE_CHECKS}). */
export type ConformanceCheck = (typeof CONFORMANCE_CHECKS)[number]

/** Options for {@link describeBackendConformance}. */
export interface ConformanceOptions {
  /** Size in bytes of the file of the `large-file` check. Default 20 MiB. */
  largeFileSize?: number
  /** Number of files written and read at once in the `concurrency` check. Default 32. */
  concurrency?: number
  /** Checks to leave out (names from {@link CONFORMANCE_CHECKS}). */
  skip?: Array<ConformanceCheck | (string & {})>
  /** Timeout per check in ms. Default 60 000. */
  timeoutMs?: number
}

const FILE_TYPES: FileType[] = ['key', 'snapshot', 'index', 'pack', 'lock']

/**
 * Registers (with vitest's `describe`/`it`) the backend conformance suite: every rustic-ts backend
 * runs it, and authors of custom backends can run it on theirs.
 * `setup` is called once before the checks and must give a backend over empty storage; the checks run
 * in order on that one backend and track what they wrote, so `list-exact` can compare listings.
 * @param name - the name of the `describe` block.
 * @param setup - makes the backend under test.
 * @param options - sizes, concurrency and checks to skip.
 */
export function describeBackendConformance(
  name: string,
  setup: () => Promise<BackendUnderTest>,
  options: ConformanceOptions = {},
): void {
  const largeFileSize = options.largeFileSize ?? 20 * 1024 * 1024
  const concurrency = options.concurrency ?? 32
  const timeout = options.timeoutMs ?? 60_000
  const skip = new Set<string>(options.skip ?? [])
  for (const s of skip) {
    if (!(CONFORMANCE_CHECKS as readonly string[]).includes(s)) {
      throw new Error(`unknown conformance check "${s}" in skip; known: ${CONFORMANCE_CHECKS.join(', ')}`)
    }
  }

  describe(`backend conformance: ${name}`, () => {
    let under: BackendUnderTest | undefined
    let b: WriteBackend
    /** What the backend should hold: type -> id -> bytes. */
    const model = new Map<FileType, Map<Id, Uint8Array>>()
    for (const t of [...FILE_TYPES, 'config' as FileType]) model.set(t, new Map())

    const put = async (type: FileType, data: Uint8Array, cacheable = type !== 'pack'): Promise<Id> => {
      const id = type === 'config' ? CONFIG_ID : hashId(data)
      await b.writeBytes(type, id, cacheable, data)
      model.get(type)!.set(id, Uint8Array.from(data))
      return id
    }
    const del = async (type: FileType, id: Id): Promise<void> => {
      await b.remove(type, id, type !== 'pack')
      model.get(type)!.delete(id)
    }
    const someFile = async (type: FileType): Promise<[Id, Uint8Array]> => {
      const first = model.get(type)!.entries().next()
      if (!first.done) return first.value
      const data = randomBytes(1500)
      return [await put(type, data), data]
    }

    const check = (c: ConformanceCheck, title: string, fn: () => Promise<void>): void => {
      const t = skip.has(c) ? it.skip : it
      t(`${c}: ${title}`, fn, timeout)
    }

    beforeAll(async () => {
      under = await setup()
      b = under.backend
      await b.create()
    }, timeout)

    afterAll(async () => {
      if (under === undefined) return
      try {
        await under.backend.close?.()
      } finally {
        await under.cleanup?.()
      }
    }, timeout)

    check('create', 'is idempotent and a fresh repository is empty', async () => {
      await b.create()
      for (const t of [...FILE_TYPES, 'config' as FileType]) {
        expect(await b.list(t), `list(${t}) of a fresh repository`).toEqual([])
        expect(await b.listWithSize(t), `listWithSize(${t}) of a fresh repository`).toEqual([])
      }
      const id = await put('key', randomBytes(300))
      await b.create()
      expectBytes(await b.readFull('key', id), model.get('key')!.get(id)!, 'key after a second create()')
    })

    check('config', 'missing, then written, read and listed', async () => {
      expect(await b.list('config')).toEqual([])
      await expectBackendError(b.readFull('config', CONFIG_ID), 'NotFound', 'readFull(config) before it exists')
      const data = randomBytes(257)
      await put('config', data)
      expectBytes(await b.readFull('config', CONFIG_ID), data, 'config')
      expectBytes(await b.readPartial('config', CONFIG_ID, true, 10, 100), data.subarray(10, 110), 'config[10..110]')
      expect(await b.list('config')).toEqual([CONFIG_ID])
      expect(await b.listWithSize('config')).toEqual([[CONFIG_ID, data.length]])
    })

    check('write-list', 'files of every type are listed with their sizes', async () => {
      for (const t of FILE_TYPES) {
        for (const size of [1, 1000, 70_001]) await put(t, randomBytes(size))
        const expected = model.get(t)!
        const listed = await b.list(t)
        for (const id of expected.keys()) expect(listed, `list(${t}) contains ${id}`).toContain(id)
        const sizes = new Map(await b.listWithSize(t))
        for (const [id, data] of expected) expect(sizes.get(id), `listWithSize(${t}) size of ${id}`).toBe(data.length)
      }
    })

    check('read-full', 'every written file reads back', async () => {
      for (const t of FILE_TYPES) {
        for (const [id, data] of model.get(t)!) expectBytes(await b.readFull(t, id), data, `${t} ${id}`)
      }
    })

    check('read-partial', 'ranged reads at start, middle, end and whole', async () => {
      const data = randomBytes(10_000)
      const id = await put('pack', data)
      const ranges: Array<[number, number]> = [
        [0, 100],
        [1234, 4321],
        [10_000 - 77, 77],
        [0, 10_000],
        [9_999, 1],
      ]
      for (const cacheable of [false, true]) {
        for (const [off, len] of ranges) {
          const got = await b.readPartial('pack', id, cacheable, off, len)
          expectBytes(got, data.subarray(off, off + len), `pack readPartial(${off}, ${len})`)
        }
      }
      const [sid, sdata] = await someFile('snapshot')
      expectBytes(await b.readPartial('snapshot', sid, true, 1, sdata.length - 1), sdata.subarray(1), 'snapshot[1..]')
    })

    check('read-partial-zero', 'zero-length ranged reads return no bytes', async () => {
      const data = randomBytes(1000)
      const id = await put('pack', data)
      for (const off of [0, 500, 1000]) {
        const got = await b.readPartial('pack', id, false, off, 0)
        expectBytes(got, new Uint8Array(0), `pack readPartial(${off}, 0)`)
      }
    })

    check('read-partial-past-end', 'ranged reads beyond the end throw', async () => {
      const data = randomBytes(4096)
      const id = await put('pack', data)
      await expectRejects(b.readPartial('pack', id, false, 4096 - 10, 20), 'readPartial crossing the end')
      await expectRejects(b.readPartial('pack', id, false, 5000, 5), 'readPartial after the end')
    })

    check('overwrite', 'config overwritten; same-bytes rewrite succeeds', async () => {
      const first = randomBytes(100)
      await put('config', first)
      const second = randomBytes(333)
      await put('config', second)
      expectBytes(await b.readFull('config', CONFIG_ID), second, 'overwritten config')
      expect(await b.listWithSize('config')).toEqual([[CONFIG_ID, 333]])
      const data = randomBytes(2000)
      const id = await put('snapshot', data)
      await put('snapshot', data)
      expectBytes(await b.readFull('snapshot', id), data, 'rewritten snapshot')
      expect((await b.list('snapshot')).filter((x) => x === id)).toEqual([id])
    })

    check('remove', 'removed files are gone and reads throw NotFound', async () => {
      const id = await put('snapshot', randomBytes(500))
      const pid = await put('pack', randomBytes(5000))
      await del('snapshot', id)
      await del('pack', pid)
      expect(await b.list('snapshot')).not.toContain(id)
      expect(await b.list('pack')).not.toContain(pid)
      await expectBackendError(b.readFull('snapshot', id), 'NotFound', 'readFull of a removed snapshot')
      await expectBackendError(b.readPartial('pack', pid, false, 0, 10), 'NotFound', 'readPartial of a removed pack')
    })

    check('remove-missing', 'removing a missing file throws NotFound', async () => {
      for (const t of ['snapshot', 'pack'] as FileType[]) {
        await expectBackendError(b.remove(t, hashId(randomBytes(8)), t !== 'pack'), 'NotFound', `remove of a missing ${t}`)
      }
    })

    check('read-missing', 'reading a missing file throws NotFound', async () => {
      for (const t of FILE_TYPES) {
        const id = hashId(randomBytes(8))
        await expectBackendError(b.readFull(t, id), 'NotFound', `readFull of a missing ${t}`)
        await expectBackendError(b.readPartial(t, id, t !== 'pack', 0, 1), 'NotFound', `readPartial of a missing ${t}`)
      }
    })

    check('buffer-isolation', 'buffers changed after write or read do not change stored data', async () => {
      const data = randomBytes(1000)
      const original = Uint8Array.from(data)
      const id = hashId(data)
      await b.writeBytes('index', id, true, data)
      model.get('index')!.set(id, original)
      data.fill(0)
      const read = await b.readFull('index', id)
      expectBytes(read, original, 'index after changing the written buffer')
      read.fill(1)
      expectBytes(await b.readFull('index', id), original, 'index after changing a read buffer')
      const part = await b.readPartial('index', id, true, 0, 10)
      part.fill(2)
      expectBytes(await b.readFull('index', id), original, 'index after changing a ranged-read buffer')
    })

    check('abort', 'calls with an aborted signal reject', async () => {
      const [id] = await someFile('snapshot')
      const signal = AbortSignal.abort()
      await expectRejects(b.readFull('snapshot', id, { signal }), 'readFull with an aborted signal')
      await expectRejects(b.list('snapshot', { signal }), 'list with an aborted signal')
    })

    check('concurrency', 'many concurrent writes, reads and removes', async () => {
      const files = Array.from({ length: concurrency }, (_, i) => randomBytes(1 + ((i * 7919) % 200_000)))
      const ids = await Promise.all(files.map((d) => put('pack', d)))
      const reads = await Promise.all(ids.map((id) => b.readFull('pack', id)))
      reads.forEach((r, i) => expectBytes(r, files[i]!, `concurrent readFull ${ids[i]}`))
      const parts = await Promise.all(
        ids.map((id, i) => {
          const len = files[i]!.length
          const off = Math.floor(len / 3)
          return b.readPartial('pack', id, false, off, len - off)
        }),
      )
      parts.forEach((r, i) => {
        const d = files[i]!
        expectBytes(r, d.subarray(Math.floor(d.length / 3)), `concurrent readPartial ${ids[i]}`)
      })
      const sizes = new Map(await b.listWithSize('pack'))
      ids.forEach((id, i) => expect(sizes.get(id), `size of ${id}`).toBe(files[i]!.length))
      const half = ids.slice(0, Math.ceil(ids.length / 2))
      await Promise.all(half.map((id) => del('pack', id)))
      const listed = new Set(await b.list('pack'))
      for (const id of half) expect(listed.has(id), `removed ${id} still listed`).toBe(false)
      for (const id of ids.slice(half.length)) expect(listed.has(id), `${id} listed`).toBe(true)
    })

    check('large-file', 'a large random file round-trips', async () => {
      const data = randomBytes(largeFileSize)
      const id = await put('pack', data)
      const back = await b.readFull('pack', id)
      expect(back.length).toBe(data.length)
      expect(sha256(back), 'SHA-256 of the large file').toBe(id)
      const off = Math.max(0, largeFileSize - 1_000_003)
      const part = await b.readPartial('pack', id, false, off, largeFileSize - off)
      expect(sha256(part)).toBe(sha256(data.subarray(off)))
      expect((await b.listWithSize('pack')).find(([x]) => x === id)?.[1]).toBe(largeFileSize)
    })

    check('list-exact', 'every type lists exactly the ids written and not removed', async () => {
      for (const [t, files] of model) {
        const listed = await b.list(t)
        for (const id of listed) expect(id, `listed ${t} id`).toMatch(/^[0-9a-f]{64}$/)
        expect([...listed].sort(), `list(${t})`).toEqual([...files.keys()].sort())
        const withSize = (await b.listWithSize(t)).sort(([a], [c]) => (a < c ? -1 : a > c ? 1 : 0))
        const expected = [...files].map(([id, d]) => [id, d.length]).sort(([a], [c]) => (a! < c! ? -1 : a! > c! ? 1 : 0))
        expect(withSize, `listWithSize(${t})`).toEqual(expected)
      }
    })

    check('location', 'location() is printable and has no credentials', async () => {
      const loc = b.location()
      expect(typeof loc).toBe('string')
      expect(loc.length).toBeGreaterThan(0)
      expect(loc, 'location() must not contain URL credentials').not.toMatch(/:\/\/[^/@\s]*:[^/@\s]*@/)
      for (const s of under?.secrets ?? []) {
        if (s.length > 0) expect(loc.includes(s), 'location() contains a secret').toBe(false)
      }
    })
  })
}

function sha256(d: Uint8Array): string {
  return createHash('sha256').update(d).digest('hex')
}

function expectBytes(actual: Uint8Array, expected: Uint8Array, what: string): void {
  expect(actual, what).toBeInstanceOf(Uint8Array)
  if (actual.length !== expected.length) {
    expect.fail(`${what}: expected ${expected.length} bytes, got ${actual.length}`)
  }
  const a = Buffer.from(actual.buffer, actual.byteOffset, actual.length)
  if (!a.equals(expected)) expect.fail(`${what}: bytes differ`)
}

async function expectRejects(p: Promise<unknown>, what: string): Promise<unknown> {
  try {
    await p
  } catch (err) {
    return err
  }
  return expect.fail(`${what}: expected an error, but the call succeeded`)
}

async function expectBackendError(p: Promise<unknown>, kind: BackendErrorKind, what: string): Promise<void> {
  const err = await expectRejects(p, what)
  if (!isBackendError(err)) expect.fail(`${what}: expected a BackendError (${kind}), got ${String(err)}`)
  expect((err as BackendError).backendKind, `${what}: kind of ${String(err)}`).toBe(kind)
}
