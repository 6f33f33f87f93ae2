import { randomBytes, scryptSync } from 'node:crypto'
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { kdfParamsValid, scryptBytes, scryptThreads } from '../../src/crypto/scryptBytes.js'
import * as inWorkers from '../../src/crypto/scryptInWorkers.js'

vi.mock('../../src/crypto/scryptInWorkers.js', { spy: true })
beforeEach(() => {
  vi.mocked(inWorkers.scryptInWorkers).mockClear()
})
afterEach(() => vi.restoreAllMocks())

describe('scryptBytes', () => {
  it('gives the 64 bytes of RFC 7914 test vector 2 (password, NaCl, N=1024, r=8, p=16)', async () => {
    const out = await scryptBytes(new TextEncoder().encode('password'), new TextEncoder().encode('NaCl'), { N: 1024, r: 8, p: 16 })
    expect(Buffer.from(out).toString('hex')).toBe(
      'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162' +
        '2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
    )
  })

  it('mixes restic-sized lanes on worker threads (when there are 2 cores) to the bytes of node:crypto scrypt', async () => {
    const params = { N: 2 ** 14, r: 8, p: 4 }
    const password = randomBytes(9)
    const salt = randomBytes(64)
    const out = await scryptBytes(password, salt, params)
    expect(out.equals(scryptSync(password, salt, 64, { ...params, maxmem: 64 << 20 }))).toBe(true)
    expect(vi.mocked(inWorkers.scryptInWorkers).mock.calls.length).toBe(scryptThreads(params) > 0 ? 1 : 0)
  })

  it('falls back to node:crypto when the workers fail, with the password as it was at the call', async () => {
    vi.mocked(inWorkers.scryptInWorkers).mockImplementationOnce(async () => {
      await new Promise((resolve) => setTimeout(resolve, 20))
      throw new Error('a scrypt worker failed: scrypt worker exited with code 1')
    })
    const params = { N: 2 ** 14, r: 8, p: 4 }
    const password = randomBytes(9)
    const salt = randomBytes(64)
    const expected = scryptSync(password, salt, 64, { ...params, maxmem: 64 << 20 })
    const pending = scryptBytes(password, salt, params)
    password.fill(0) // as the CLI's early derivation does once its result is taken
    expect((await pending).equals(expected)).toBe(true)
    expect(vi.mocked(inWorkers.scryptInWorkers).mock.calls.length).toBe(scryptThreads(params) > 0 ? 1 : 0)
  })

  it('takes one large lane to one worker keeping a quarter of its memory when asked for less memory, to the bytes of node:crypto scrypt', async () => {
    const params = { N: 2 ** 14, r: 8, p: 1 } // one 16 MiB lane
    const password = randomBytes(9)
    const salt = randomBytes(64)
    const expected = scryptSync(password, salt, 64, { ...params, maxmem: 64 << 20 })
    expect((await scryptBytes(password, salt, params, { lessMemory: true })).equals(expected)).toBe(true)
    expect(vi.mocked(inWorkers.scryptInWorkers).mock.calls.map((c) => [c[3].threads, c[3].shift])).toEqual([[1, 2]])
    // by default, and for a lane too small to be worth a worker, OpenSSL derives it
    expect((await scryptBytes(password, salt, params)).equals(expected)).toBe(true)
    await scryptBytes(password, salt, { N: 1024, r: 8, p: 1 }, { lessMemory: true })
    expect(vi.mocked(inWorkers.scryptInWorkers).mock.calls.length).toBe(1)
  })

  it('uses worker threads, each mixing two lanes at once, for 2+ large lanes only (4+ on two cores): one per two cores and pair of lanes, within the memory bound', () => {
    expect(scryptThreads({ N: 32768, r: 8, p: 6 }, 2)).toBe(1)
    expect(scryptThreads({ N: 32768, r: 8, p: 7 }, 2)).toBe(1)
    expect(scryptThreads({ N: 32768, r: 8, p: 6 }, 8)).toBe(2) // 2·2·32 MiB
    expect(scryptThreads({ N: 32768, r: 8, p: 3 }, 8)).toBe(2)
    expect(scryptThreads({ N: 32768, r: 8, p: 6 }, 3)).toBe(1)
    // on two cores, only from 4 lanes (fewer end as soon on one thread, beside the program's loading)
    expect(scryptThreads({ N: 32768, r: 8, p: 3 }, 2)).toBe(0)
    expect(scryptThreads({ N: 32768, r: 8, p: 4 }, 2)).toBe(1)
    expect(scryptThreads({ N: 16384, r: 8, p: 16 }, 16)).toBe(2)
    expect(scryptThreads({ N: 32768, r: 8, p: 2 }, 8)).toBe(1)
    expect(scryptThreads({ N: 32768, r: 8, p: 1 }, 8)).toBe(0)
    expect(scryptThreads({ N: 32768, r: 8, p: 6 }, 1)).toBe(0)
    expect(scryptThreads({ N: 1024, r: 8, p: 16 }, 8)).toBe(0)
    expect(scryptThreads({ N: 2 ** 18, r: 8, p: 2 }, 8)).toBe(0) // 2 x 256 MiB lanes: one at a time
  })

  it('accepts restic-calibrated parameters and refuses unusable or oversized ones', () => {
    expect(kdfParamsValid({ N: 32768, r: 8, p: 3 })).toBe(true)
    for (const bad of [
      { N: 1, r: 8, p: 1 },
      { N: 1000, r: 8, p: 1 },
      { N: 32768, r: 0, p: 1 },
      { N: 32768, r: 8, p: 0 },
      { N: 2 ** 21, r: 8, p: 1 }, // 128·N·r = 2 GiB
      { N: 2, r: 2 ** 10, p: 2 ** 11 }, // r·p > 2^20
      { N: 1.5, r: 8, p: 1 },
    ]) {
      expect(kdfParamsValid(bad), JSON.stringify(bad)).toBe(false)
    }
  })
})
