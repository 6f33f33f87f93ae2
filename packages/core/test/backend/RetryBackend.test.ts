import { randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { FaultInjectingBackend, describeBackendConformance } from '@rustic-ts/backend-testkit'
import { BackendError, CONFIG_ID, DEFAULT_RETRY_ELAPSED_MS, MemoryBackend, RetryBackend, backoffDelay, hashId, isRusticError } from '@rustic-ts/core/internal'

describe('RetryBackend', () => {
  it('succeeds through many transient faults', async () => {
    const faulty = new FaultInjectingBackend(new MemoryBackend(), { faultRate: 0.3, seed: 42 })
    let retries = 0
    const b = new RetryBackend(faulty, { maxRetries: 20, baseDelayMs: 1, maxDelayMs: 2, onRetry: () => retries++ })
    await b.create()
    const files = Array.from({ length: 50 }, () => randomBytes(100))
    await Promise.all(files.map((d) => b.writeBytes('pack', hashId(d), false, d)))
    const back = await Promise.all(files.map((d) => b.readFull('pack', hashId(d))))
    back.forEach((r, i) => expect(Buffer.from(r).equals(files[i]!)).toBe(true))
    expect((await b.list('pack')).length).toBe(50)
    expect(faulty.totalFaults).toBeGreaterThan(10)
    expect(retries).toBe(faulty.totalFaults)
    expect(faulty.totalCalls).toBe(1 + 50 + 50 + 1 + faulty.totalFaults)
  })

  it('without retries the first error surfaces typed', async () => {
    const faulty = new FaultInjectingBackend(new MemoryBackend(), { faultRate: 0 })
    const b = new RetryBackend(faulty, { maxRetries: 0 })
    faulty.failNext(1)
    const err = await b.list('snapshot').catch((e: unknown) => e)
    expect(err).toBeInstanceOf(BackendError)
    expect((err as BackendError).backendKind).toBe('Transient')
    expect((err as BackendError).isTransient).toBe(true)
    expect(faulty.calls.list).toBe(1)
  })

  it('gives up after maxRetries with the last error', async () => {
    const faulty = new FaultInjectingBackend(new MemoryBackend(), { faultRate: 0, kind: 'Network' })
    const retried: number[] = []
    const b = new RetryBackend(faulty, { maxRetries: 2, baseDelayMs: 1, onRetry: (_e, n) => retried.push(n) })
    faulty.failNext(10)
    await expect(b.list('index')).rejects.toMatchObject({ backendKind: 'Network' })
    expect(faulty.calls.list).toBe(3)
    expect(retried).toEqual([1, 2])
  })

  it('names the call it retries: the config without its all-zero id, other files by type and id', async () => {
    const faulty = new FaultInjectingBackend(new MemoryBackend(), { faultRate: 0, kind: 'Network' })
    const calls: string[] = []
    const b = new RetryBackend(faulty, { maxRetries: 1, baseDelayMs: 1, onRetry: (_e, _n, _d, call) => calls.push(call) })
    const data = new Uint8Array([1, 2, 3])
    faulty.failNext(1)
    await b.writeBytes('config', CONFIG_ID, true, data)
    faulty.failNext(1)
    await b.readFull('config', CONFIG_ID)
    faulty.failNext(1)
    await b.writeBytes('pack', hashId(data), false, data)
    expect(calls).toEqual(['write config', 'read config', `write pack ${hashId(data)}`])
  })

  it('does not retry non-transient errors', async () => {
    const faulty = new FaultInjectingBackend(new MemoryBackend(), { faultRate: 0, kind: 'PermissionDenied' })
    const b = new RetryBackend(faulty, { baseDelayMs: 1 })
    faulty.failNext(1)
    await expect(b.list('key')).rejects.toMatchObject({ backendKind: 'PermissionDenied' })
    expect(faulty.calls.list).toBe(1)
    const missing = hashId(new Uint8Array([1]))
    await expect(b.readFull('key', missing)).rejects.toMatchObject({ backendKind: 'NotFound' })
    await expect(b.remove('key', missing, true)).rejects.toMatchObject({ backendKind: 'NotFound' })
    expect(faulty.calls.readFull).toBe(1)
    const plain = new RetryBackend(
      {
        ...new MemoryBackend(),
        location: () => 'x',
        list: () => Promise.reject(new Error('boom')),
      } as unknown as MemoryBackend,
      { baseDelayMs: 1 },
    )
    await expect(plain.list('key')).rejects.toThrow('boom')
  })

  it('an abort during the backoff wait rejects promptly', async () => {
    const faulty = new FaultInjectingBackend(new MemoryBackend(), { faultRate: 0 })
    const b = new RetryBackend(faulty, { baseDelayMs: 60_000, jitter: false })
    faulty.failNext(1)
    const ac = new AbortController()
    const start = Date.now()
    setTimeout(() => ac.abort(), 50)
    const err = await b.list('pack', { signal: ac.signal }).catch((e: unknown) => e)
    expect(Date.now() - start).toBeLessThan(2000)
    expect(isRusticError(err, 'Aborted')).toBe(true)
    expect(faulty.calls.list).toBe(1)
    await expect(b.list('pack', { signal: ac.signal })).rejects.toMatchObject({ code: 'Aborted' })
  })

  it('computes exponential backoff with full jitter', () => {
    const p = { baseDelayMs: 100, maxDelayMs: 1000, jitter: false }
    expect([0, 1, 2, 3, 4, 60].map((a) => backoffDelay(a, p))).toEqual([100, 200, 400, 800, 1000, 1000])
    const j = { ...p, jitter: true }
    expect(backoffDelay(2, j, () => 0.5)).toBe(200)
    for (let i = 0; i < 100; i++) {
      const d = backoffDelay(3, j)
      expect(d).toBeGreaterThanOrEqual(0)
      expect(d).toBeLessThanOrEqual(800)
    }
  })

  describe('time budget (fake clock)', () => {
    afterEach(() => {
      vi.useRealTimers()
    })

    /** A backend whose `list` fails with a transient network error for the first `outageMs` of the clock. */
    function down(outageMs: number): { backend: MemoryBackend; calls: () => number } {
      const start = Date.now()
      const backend = new MemoryBackend()
      let calls = 0
      const list = backend.list.bind(backend)
      backend.list = (type, options) => {
        calls++
        if (Date.now() - start < outageMs) return Promise.reject(new BackendError('Network', 'connect ECONNREFUSED'))
        return list(type, options)
      }
      return { backend, calls: () => calls }
    }

    it('by default survives a 90-second outage (no retry count limit)', async () => {
      vi.useFakeTimers()
      const { backend, calls } = down(90_000)
      const delays: number[] = []
      const p = new RetryBackend(backend, { onRetry: (_e, _n, d) => delays.push(d) }).list('snapshot')
      await vi.advanceTimersByTimeAsync(200_000)
      await expect(p).resolves.toEqual([])
      expect(calls()).toBeGreaterThan(6)
      expect(Math.max(...delays)).toBeLessThanOrEqual(30_000)
    })

    it('gives up when the next wait would pass maxElapsedMs, with the last error', async () => {
      vi.useFakeTimers()
      const { backend } = down(Number.POSITIVE_INFINITY)
      const start = Date.now()
      let retries = 0
      let failedAt = 0
      const p = new RetryBackend(backend, { onRetry: () => retries++ })
        .list('snapshot')
        .catch((e: unknown) => ((failedAt = Date.now()), e))
      await vi.advanceTimersByTimeAsync(2 * DEFAULT_RETRY_ELAPSED_MS)
      const err = await p
      expect(err).toBeInstanceOf(BackendError)
      expect((err as BackendError).message).toBe('connect ECONNREFUSED')
      expect(retries).toBeGreaterThan(10)
      expect(failedAt - start).toBeLessThanOrEqual(DEFAULT_RETRY_ELAPSED_MS)
      expect(failedAt - start).toBeGreaterThan(DEFAULT_RETRY_ELAPSED_MS - 30_000)

      const short = down(Number.POSITIVE_INFINITY)
      const q = new RetryBackend(short.backend, { maxElapsedMs: 1000, jitter: false }).list('snapshot').catch((e: unknown) => e)
      await vi.advanceTimersByTimeAsync(5000)
      expect(await q).toBeInstanceOf(BackendError)
      // 100 + 200 + 400 ms waited; the next (800 ms) would pass 1 s
      expect(short.calls()).toBe(4)
    })
  })

  it('rejects invalid options', () => {
    expect(() => new RetryBackend(new MemoryBackend(), { maxRetries: -1 })).toThrow(/maxRetries/)
  })
})

describeBackendConformance(
  'RetryBackend over FaultInjectingBackend over MemoryBackend',
  async () => {
    const faulty = new FaultInjectingBackend(new MemoryBackend(), { faultRate: 0.2, seed: 7 })
    return { backend: new RetryBackend(faulty, { maxRetries: 30, baseDelayMs: 0, maxDelayMs: 1 }) }
  },
  { largeFileSize: 1 << 20 },
)
