import { execFileSync } from 'node:child_process'
import { createHash } from 'node:crypto'
import { unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createKeyFile,
  decodeUnpacked,
  decompress,
  encodeUnpacked,
  goJsonBytes,
  hashId,
  isRusticError,
  Key,
  openKeyFile,
  packHeaderLength,
  packSizeFromBlobs,
  parseConfig,
  parseIndex,
  parseKeyFile,
  parsePackHeader,
  parseSnapshot,
  serializeConfig,
  serializeIndex,
  serializeKeyFile,
  serializePackHeader,
  serializeSnapshot,
  snapshotTime,
  type Id,
  zstdProviders,
  type IndexFile,
} from '@rustic-ts/core/internal'
import { makeResticFixture, type ResticFixture } from '../repofile/resticFixture.js'

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

describe.each([1, 2] as const)('restic %i repository', (version) => {
  let fx: ResticFixture
  let master: Key

  beforeAll(async () => {
    fx = await makeResticFixture(version)
    master = fx.master
  })
  afterAll(async () => {
    await fx?.cleanup()
  })

  it('opened restic\'s key file to the master key restic prints, and re-serialises it byte for byte', async () => {
    const expected = JSON.parse(await fx.restic('cat', 'masterkey')) as { mac: { k: string; r: string }; encrypt: string }
    expect(master.toMasterKeyJson()).toEqual(expected)
    expect(master.equals(Key.fromMasterKeyJson(expected))).toBe(true)
    const keyName = fx.resticKeyId
    const bytes = await fx.read(`keys/${keyName}`)
    expect(hashId(bytes)).toBe(keyName)
    const kf = parseKeyFile(bytes, 'key')
    expect(kf.extra).toBeUndefined()
    expect(serializeKeyFile(kf)).toEqual(bytes)
  })

  it('rejects a wrong password with IncorrectPassword', async () => {
    const keyName = fx.resticKeyId
    const keyFile = parseKeyFile(await fx.read(`keys/${keyName}`), `key ${keyName}`)
    const err = await openKeyFile(keyFile, 'wrong password', `key ${keyName.slice(0, 8)}`).catch((e: unknown) => e)
    expect(isRusticError(err, 'IncorrectPassword')).toBe(true)
    expect((err as Error).message).not.toContain('wrong password')
    expect((err as Error).message).toContain(keyName.slice(0, 8))
  })

  it('decrypts and parses the config; re-serialises it exactly', async () => {
    const sealed = await fx.read('config')
    const plain = master.decrypt(sealed, 'config')
    expect(plain[0]).toBe(0x7b) // never compressed
    const config = parseConfig(plain)
    const expected = JSON.parse(await fx.restic('cat', 'config')) as { version: number; id: string; chunker_polynomial: string }
    expect(config.version).toBe(version)
    expect(config.id).toBe(expected.id)
    expect(config.chunkerPolynomial).toBe(BigInt('0x' + expected.chunker_polynomial))
    expect(Buffer.from(serializeConfig(config)).toString()).toBe(Buffer.from(plain).toString())
  })

  it('decrypts, parses and re-serialises every snapshot byte for byte', async () => {
    const names = await fx.list('snapshots')
    expect(names).toHaveLength(2)
    const listed = JSON.parse(await fx.restic('snapshots', '--json')) as Array<{ id: string; tags?: string[]; hostname: string; time: string }>
    for (const name of names) {
      const sealed = await fx.read(`snapshots/${name}`)
      expect(hashId(sealed)).toBe(name)
      const plain = master.decrypt(sealed, `snapshot ${name}`)
      const tampered = Uint8Array.from(sealed)
      tampered[20]! ^= 0x40
      expect(() => master.decrypt(tampered, `snapshot ${name.slice(0, 8)}`)).toThrow(
        `MAC check failed for snapshot ${name.slice(0, 8)}: the data is corrupted or was tampered with`,
      )
      expect(plain[0]).toBe(version === 2 ? 0x02 : 0x7b)
      const json = decodeUnpacked(plain, `snapshot ${name}`)
      const snap = parseSnapshot(json, `snapshot ${name}`, name as Id)
      expect(snap.id).toBe(name)
      expect(snap.extra).toBeUndefined()
      expect(Buffer.from(serializeSnapshot(snap)).toString()).toBe(Buffer.from(json).toString())
      const fromRestic = listed.find((s) => s.id === name)!
      expect(snap.hostname).toBe(fromRestic.hostname)
      expect(snap.tags).toEqual(fromRestic.tags ?? [])
      expect(snapshotTime(snap).getTime()).toBe(new Date(fromRestic.time).getTime())
    }
  })

  it('decrypts, parses and re-serialises the index byte for byte; pack headers agree with it', async () => {
    const names = await fx.list('index')
    const packs = new Map<string, IndexFile['packs'][number]>()
    for (const name of names) {
      const plain = master.decrypt(await fx.read(`index/${name}`), `index ${name}`)
      const json = decodeUnpacked(plain, `index ${name}`)
      expect(json[json.length - 1]).toBe(0x0a)
      const index = parseIndex(json, `index ${name}`)
      expect(Buffer.from(serializeIndex(index)).toString()).toBe(Buffer.from(json).toString())
      for (const p of index.packs) packs.set(p.id, p)
    }
    const packFiles = await fx.list('data')
    expect(packFiles.length).toBe(packs.size)
    let compressedSeen = 0
    for (const path of packFiles) {
      const id = path.slice(3)
      const pack = await fx.read(`data/${path}`)
      expect(sha256(pack)).toBe(id)
      const hlen = packHeaderLength(pack.subarray(pack.length - 4), pack.length, `pack ${id}`)
      const header = master.decrypt(pack.subarray(pack.length - 4 - hlen, pack.length - 4), `header of pack ${id}`)
      const blobs = parsePackHeader(header, `pack ${id}`)
      expect(serializePackHeader(blobs)).toEqual(header)
      expect(packSizeFromBlobs(blobs)).toBe(pack.length)
      const indexed = packs.get(id)!
      const byId = new Map(indexed.blobs.map((b) => [b.id, b]))
      expect(blobs.length).toBe(indexed.blobs.length)
      for (const b of blobs) {
        const ib = byId.get(b.id)!
        expect({ type: b.type, offset: b.offset, length: b.length, u: b.uncompressedLength }).toEqual({
          type: ib.type,
          offset: ib.offset,
          length: ib.length,
          u: ib.uncompressedLength,
        })
        let plainBlob = master.decrypt(pack.subarray(b.offset, b.offset + b.length), `blob ${b.id}`)
        if (b.uncompressedLength !== undefined) {
          compressedSeen++
          const compressed = plainBlob
          plainBlob = decompress(compressed, `blob ${b.id}`, b.uncompressedLength)
          // every zstd provider that loads here reads restic's frames
          for (const p of zstdProviders()) expect(sha256(p.decompress(compressed, b.uncompressedLength)), p.name).toBe(b.id)
        }
        expect(sha256(plainBlob)).toBe(b.id)
      }
    }
    if (version === 2) expect(compressedSeen).toBeGreaterThan(0)
    else expect(compressedSeen).toBe(0)
  })

  it('restic accepts a key file, snapshot and index written by rustic-ts', async () => {
    // A second key for the same master key.
    const { keyFile, bytes } = await createKeyFile(master, 'second pw', { hostname: 'rustic-host', username: 'me' })
    const keyId = hashId(bytes)
    await writeFile(join(fx.repo, 'keys', keyId), bytes)
    expect(keyFile.hostname).toBe('rustic-host')
    const keys = JSON.parse(
      execFileSync('restic', ['-r', fx.repo, '--no-cache', '--key-hint', keyId, 'key', 'list', '--json'], {
        env: { ...process.env, RESTIC_PASSWORD: 'second pw' },
      }).toString(),
    ) as Array<{ id: string; current: boolean; hostName: string }>
    expect(keys.find((k) => k.current)?.id).toBe(keyId.slice(0, 8))

    // A modified copy of a snapshot (new tag, original set), sealed by us.
    const [snapName] = await fx.list('snapshots')
    const json = decodeUnpacked(master.decrypt(await fx.read(`snapshots/${snapName}`), 'snapshot'), 'snapshot')
    const snap = parseSnapshot(json, 'snapshot', snapName as Id)
    const copy = { ...snap, tags: [...snap.tags, 'from-rustic-ts'], original: snapName as Id }
    delete copy.id
    const sealed = master.encrypt(encodeUnpacked(serializeSnapshot(copy), version))
    const newId = hashId(sealed)
    await writeFile(join(fx.repo, 'snapshots', newId), sealed)

    // The index, re-encoded and sealed by us, replacing restic's.
    const [indexName] = await fx.list('index')
    const index = parseIndex(decodeUnpacked(master.decrypt(await fx.read(`index/${indexName}`), 'index'), 'index'), 'index')
    const sealedIndex = master.encrypt(encodeUnpacked(serializeIndex(index), version, 19))
    await writeFile(join(fx.repo, 'index', hashId(sealedIndex)), sealedIndex)
    await unlink(join(fx.repo, 'index', indexName!))

    const listed = JSON.parse(await fx.restic('snapshots', '--json')) as Array<{ id: string; tags?: string[]; original?: string }>
    const mine = listed.find((s) => s.id === newId)
    expect(mine?.tags).toContain('from-rustic-ts')
    expect(mine?.original).toBe(snapName)
    await fx.restic('check', '--read-data')
  })

  it('the master key JSON we seal is Go JSON', () => {
    const text = Buffer.from(goJsonBytes(master.toMasterKeyJson())).toString()
    expect(text).toMatch(/^\{"mac":\{"k":"[A-Za-z0-9+/=]{24}","r":"[A-Za-z0-9+/=]{24}"\},"encrypt":"[A-Za-z0-9+/=]{44}"\}$/)
  })
})
