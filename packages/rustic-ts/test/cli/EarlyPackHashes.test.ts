import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { hashId, MemoryBackend, type Id } from '@rustic-ts/core/internal'
import { EarlyPackHashes } from '../../src/cli/EarlyPackHashes.js'

describe('EarlyPackHashes (check --read-data: pack files hashed while the key is derived)', () => {
  let dir: string
  let backend: LocalBackend
  const packs = [randomBytes(300_000), randomBytes(200_000), randomBytes(100_000), randomBytes(50_000)]
  const ids = packs.map((p) => hashId(p) as Id)
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rustic-ts-earlyhash-'))
    backend = new LocalBackend(dir)
    await backend.create()
    for (const [i, bytes] of packs.entries()) await backend.writeBytes('pack', ids[i]!, false, i === 3 ? randomBytes(50_000) : bytes)
  })
  afterAll(async () => {
    if (dir) await rm(dir, { recursive: true, force: true })
  })

  it('hashes the packs but the `skip` largest, until the key is there; a pack whose bytes are not its id is left out', async () => {
    const hashes = new EarlyPackHashes(1)
    hashes.begin(backend)
    const key = new AbortController()
    hashes.wait(key.signal)
    // (the key comes once every pack is done: nothing is cut off)
    await new Promise((resolve) => setTimeout(resolve, 200))
    key.abort()
    expect(await hashes.hashes()).toEqual(new Map([[ids[1], 200_000], [ids[2], 100_000]]))
  })

  it('nothing when the key is there before the work begins, or without local files', async () => {
    const hashes = new EarlyPackHashes(0)
    hashes.begin(backend)
    const key = new AbortController()
    key.abort()
    hashes.wait(key.signal)
    expect(await hashes.hashes()).toEqual(new Map())
    const remote = new EarlyPackHashes(0)
    remote.begin(new MemoryBackend('remote'))
    remote.wait(new AbortController().signal)
    expect(await remote.hashes()).toEqual(new Map())
  })
})
