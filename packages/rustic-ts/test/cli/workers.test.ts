import { pbkdf2Sync, scryptSync } from 'node:crypto'
import { existsSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Worker } from 'node:worker_threads'
import { expect, it } from 'vitest'
import { compress, decompress, hashId, Key, serializePackHeader, zstdProvider, type Id } from '@rustic-ts/core/internal'
import type {
  DirectoryWorkerData,
  ListReply,
  ListRequest,
  RestoreReply,
  RestoreRequest,
  RestoreWorkerData,
  ScryptReply,
  ScryptWorkerData,
  ScryptWorkerIn,
  SealWorkerData,
  SealWorkerIn,
  SealWorkerOut,
  VerifyReply,
  VerifyWorkerData,
  VerifyWorkerIn,
} from '@rustic-ts/core/internal'

/** Starts the CLI bundle's worker program `name` (core's `workerUrl` loads it from next to dist/cli.js), sends one message (or more), returns the (last) answer. */
async function askBundled<In, Out>(name: string, workerData: unknown, message: In, ...more: In[]): Promise<Out> {
  const worker = new Worker(new URL(`../../dist/${name}.worker.js`, import.meta.url), { workerData })
  try {
    return await new Promise<Out>((resolve, reject) => {
      let answers = 0
      worker.on('message', (m: Out) => {
        if (++answers === 1 + more.length) resolve(m)
      })
      worker.once('error', reject)
      worker.once('exit', (code) => reject(new Error(`the ${name} worker exited with code ${code}`)))
      for (const m of [message, ...more]) worker.postMessage(m)
    })
  } finally {
    await worker.terminate()
  }
}

const probe = new TextEncoder().encode('rustic-ts CLI worker probe '.repeat(16))

it('the CLI bundle ships the seal worker, and it seals as Key and zstd open', async () => {
  const key = Key.random()
  const data: SealWorkerData = { key: key.toMasterKeyJson(), level: 3, zstd: zstdProvider().name, chunker: null, outMem: new SharedArrayBuffer(0), outSizes: [] }
  const m = await askBundled<SealWorkerIn, SealWorkerOut>('seal', data, { type: 'seal', id: 1, data: probe.slice(), lengths: [probe.length] })
  if (m.type !== 'sealed') throw new Error(`unexpected answer ${m.type}`)
  expect(m.uls).toEqual([probe.length])
  expect(decompress(key.decrypt(m.sealed, 'probe'), 'probe', probe.length)).toEqual(probe)
})

it('the CLI bundle ships the restore worker, and it opens and checks a sealed blob', async () => {
  const key = Key.random()
  const sealed = key.encrypt(compress(probe, 3))
  const data: RestoreWorkerData = { key: key.toMasterKeyJson(), zstd: zstdProvider().name }
  const blob = { id: hashId(probe), start: 0, length: sealed.length, uncompressedLength: probe.length, dataLength: probe.length, targets: [] }
  const m = await askBundled<RestoreRequest, RestoreReply>('restore', data, { id: 1, data: sealed, blobs: [blob], verify: true, what: 'probe' })
  expect(m).toEqual({ id: 1, written: 0, files: [], metaDone: [], damaged: [] })
})

it('the CLI bundle ships the directory worker, and it lists a directory', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-cli-workers-'))
  try {
    await writeFile(join(dir, 'b'), '')
    await writeFile(join(dir, 'a'), 'x')
    const data: DirectoryWorkerData = { xattrModule: undefined, afterReaddir: undefined }
    const m = await askBundled<ListRequest, ListReply>('directory', data, { id: 0, dirs: Buffer.from(dir).toString('latin1'), xattrs: undefined, empty: '1' })
    expect(m).toMatchObject({ id: 0, names: 'a/b', empty: [1] }) // b, of size 0, checked and found empty
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
})

it('the CLI bundle ships the verify worker, and it verifies a pack', async () => {
  const key = Key.random()
  const sealed = key.encrypt(compress(probe, 3))
  const blobs = [{ type: 'data' as const, id: hashId(probe), offset: 0, length: sealed.length, uncompressedLength: probe.length }]
  const header = key.encrypt(serializePackHeader(blobs))
  const length = Buffer.alloc(4)
  length.writeUInt32LE(header.length)
  const pack = Buffer.concat([sealed, header, length])
  const data: VerifyWorkerData = { key: key.toMasterKeyJson() }
  // the whole pack as its tail, then the end: the answer tells what was found
  const m = await askBundled<VerifyWorkerIn, VerifyReply>(
    'verify',
    data,
    { type: 'begin', id: 1, stream: 0, packId: hashId(pack) as Id, size: pack.length, blobs, tailStart: 0, tail: new Uint8Array(pack) },
    { type: 'end', id: 2, stream: 0 },
  )
  expect(m).toEqual({ id: 2, verification: { problems: [], blobsVerified: 1 } })
})

it('the CLI bundle ships the scrypt worker and romix.wasm, and the worker mixes a lane as scrypt does', async () => {
  expect(existsSync(new URL('../../dist/romix.wasm', import.meta.url))).toBe(true)
  const [password, salt, N, r] = [probe.subarray(0, 8), probe.subarray(8, 72), 1024, 2]
  const lanes = new SharedArrayBuffer(128 * r)
  new Uint8Array(lanes).set(pbkdf2Sync(password, salt, 1, 128 * r, 'sha256'))
  const data: ScryptWorkerData = { lanes, N, r, shift: 2 }
  expect(await askBundled<ScryptWorkerIn, ScryptReply>('scrypt', data, { id: 7, lane: 0 })).toBe(7)
  expect(pbkdf2Sync(password, new Uint8Array(lanes), 1, 64, 'sha256').equals(scryptSync(password, salt, 64, { N, r, p: 1 }))).toBe(true)
})
