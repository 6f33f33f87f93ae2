import { randomBytes, randomInt, scryptSync } from 'node:crypto'
import type { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { scryptInWorkers } from '../../src/crypto/scryptInWorkers.js'

describe('scryptInWorkers', () => {
  it('gives the bytes of node:crypto scrypt with the lanes on worker threads (random passwords, salts, N, r, p, threads)', async () => {
    for (let k = 0; k < 6; k++) {
      const N = 2 ** randomInt(4, 11)
      const r = randomInt(1, 9)
      const p = randomInt(2, 8)
      const threads = randomInt(1, 4)
      const shift = randomInt(0, 3) as 0 | 1 | 2
      const password = randomBytes(randomInt(1, 40))
      const salt = randomBytes(k < 3 ? 64 : randomInt(0, 100))
      const out = await scryptInWorkers(password, salt, { N, r, p }, { threads, shift })
      expect(out.toString('hex'), JSON.stringify({ N, r, p, threads, shift })).toBe(scryptSync(password, salt, 64, { N, r, p }).toString('hex'))
    }
  })

  it('mixes pairs of lanes and an odd last lane, on one worker or spread over two (p = 7, 3, 5, 2)', async () => {
    for (const [p, threads] of [
      [7, 2],
      [3, 2],
      [5, 1],
      [2, 2],
    ] as const) {
      const password = randomBytes(12)
      const salt = randomBytes(64)
      const out = await scryptInWorkers(password, salt, { N: 256, r: 2, p }, { threads, shift: 1 })
      expect(out.toString('hex'), JSON.stringify({ p, threads })).toBe(scryptSync(password, salt, 64, { N: 256, r: 2, p }).toString('hex'))
    }
  })

  it('with mainLane, mixes the last of an odd number of lanes on this thread and the pairs on workers (p = 3, 5, 7; an even p all on workers)', async () => {
    for (const [p, threads] of [
      [3, 1],
      [5, 2],
      [7, 1],
      [7, 2],
      [4, 2],
    ] as const) {
      const password = randomBytes(12)
      const salt = randomBytes(64)
      const params = { N: 1024, r: 2, p }
      const out = await scryptInWorkers(password, salt, params, { threads, shift: 1, mainLane: true })
      expect(out.toString('hex'), JSON.stringify({ p, threads })).toBe(scryptSync(password, salt, 64, params).toString('hex'))
    }
  })

  it('gives a worker its next job before it answers the one it has (it does not wait for this thread between jobs)', async () => {
    // two pairs on one worker that answers only once it holds both: without the second job sent ahead, it never does
    const url = new URL('./fixtures/twoJobs.worker.mjs', import.meta.url)
    const out = scryptInWorkers(randomBytes(8), randomBytes(64), { N: 16, r: 1, p: 4 }, { threads: 1, url })
    const late = new Promise<string>((resolve) => setTimeout(() => resolve('no answer'), 5000).unref())
    expect(await Promise.race([out.then((b) => b.length), late])).toBe(64)
  })

  it('copies the password at once: the caller may clear its bytes while the lanes run', async () => {
    const password = randomBytes(16)
    const salt = randomBytes(64)
    const expected = scryptSync(password, salt, 64, { N: 256, r: 4, p: 3 })
    const pending = scryptInWorkers(password, salt, { N: 256, r: 4, p: 3 }, { threads: 2, shift: 2 })
    password.fill(0)
    expect((await pending).equals(expected)).toBe(true)
  })

  it('rejects, never gives bytes, when a worker cannot start, dies or answers a lane it was not given', async () => {
    const params = { N: 16, r: 1, p: 4 }
    const args = [randomBytes(8), randomBytes(64), params] as const
    const at = (file: string): { threads: number; url: URL } => ({ threads: 2, url: new URL(`./fixtures/${file}`, import.meta.url) })
    await expect(scryptInWorkers(...args, at('missing.worker.mjs'))).rejects.toThrow()
    await expect(scryptInWorkers(...args, at('dies.worker.mjs'))).rejects.toThrow(/exited with code 3/)
    await expect(scryptInWorkers(...args, at('wrongLane.worker.mjs'))).rejects.toThrow(/answered job \d+, which it was not given/)
  })

  it('with keepThread, hands one worker thread over, idle, once the lanes are mixed (the others end); none when it fails', async () => {
    const password = randomBytes(12)
    const salt = randomBytes(64)
    const params = { N: 256, r: 2, p: 4 }
    const kept: Worker[] = []
    const out = await scryptInWorkers(password, salt, params, { threads: 2, shift: 1, keepThread: (t) => kept.push(t) })
    expect(out.toString('hex')).toBe(scryptSync(password, salt, 64, params).toString('hex'))
    expect(kept).toHaveLength(1)
    expect(kept[0]!.threadId).toBeGreaterThan(0)
    await kept[0]!.terminate()
    const dies = { threads: 2, url: new URL('./fixtures/dies.worker.mjs', import.meta.url), keepThread: (t: Worker) => kept.push(t) }
    await expect(scryptInWorkers(password, salt, params, dies)).rejects.toThrow(/exited with code 3/)
    expect(kept).toHaveLength(1)
  })
})
