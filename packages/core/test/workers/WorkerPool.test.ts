import type { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { RusticError } from '../../src/error/RusticError.js'
import { WorkerPool, type PendingJob, type PoolWorker } from '../../src/workers/WorkerPool.js'
import type { ScryptReply, ScryptWorkerData, ScryptWorkerIn } from '../../src/workers/scrypt.protocol.js'
import { workerUrl } from '../../src/workers/workerUrl.js'

type In = { id: number; value?: number; hold?: boolean; crash?: boolean }
type Out = { id: number; value: number; gc: string }
interface Job extends PendingJob {
  done(m: Out): void
}

const ECHO = new URL('./fixtures/echo.worker.mjs', import.meta.url)

function echoPool(size: number, options: { broken?: boolean; exposeGc?: boolean; initial?: number } = {}): WorkerPool<In, Out, Job> {
  const pool: WorkerPool<In, Out, Job> = new WorkerPool<In, Out, Job>({
    name: 'echo',
    url: ECHO,
    size,
    initial: options.initial,
    exposeGc: options.exposeGc,
    setup: () => ({ workerData: { broken: options.broken }, state: undefined }),
    onMessage: (w, m) => pool.take(w, m.id)?.done(m),
  })
  return pool
}

function ask(pool: WorkerPool<In, Out, Job>, w: PoolWorker<Job, undefined>, message: Omit<In, 'id'>): Promise<Out> {
  return new Promise<Out>((resolve, reject) => pool.request(w, { done: resolve, fail: reject }, (id) => ({ id, ...message })))
}

describe('WorkerPool', () => {
  it('answers jobs by id on the least busy worker, and counts what is pending', async () => {
    const pool = echoPool(2)
    try {
      const [a, b] = pool.workers
      const held = ask(pool, a!, { hold: true })
      held.catch(() => {})
      expect(pool.leastBusy()).toBe(b)
      const answers = await Promise.all([1, 2, 3].map((value) => ask(pool, pool.leastBusy(), { value })))
      expect(answers.map((m) => m.value)).toEqual([1, 2, 3])
      expect(pool.pending).toBe(1)
      expect(a!.jobs.size).toBe(1)
    } finally {
      await pool.close()
    }
  })

  it('a worker that dies fails every job pending on it; the others go on', async () => {
    const pool = echoPool(2)
    try {
      const [a, b] = pool.workers
      const pending = [ask(pool, a!, { hold: true }), ask(pool, a!, { hold: true })]
      void ask(pool, a!, { crash: true }).catch(() => {})
      for (const p of pending) {
        const e = await p.catch((err: unknown) => err)
        expect(e).toBeInstanceOf(RusticError)
        expect((e as Error).message).toBe('a echo worker failed: echo worker exited with code 2')
      }
      expect(a!.dead).toBeDefined()
      expect(pool.failure).toBe(a!.dead)
      await expect(ask(pool, a!, { value: 1 })).rejects.toThrow(/echo worker failed/)
      expect(pool.leastBusy()).toBe(b)
      expect((await ask(pool, b!, { value: 7 })).value).toBe(7)
    } finally {
      await pool.close()
    }
  })

  it('close() fails pending jobs and later ones', async () => {
    const pool = echoPool(1)
    const w = pool.workers[0]!
    const pending = expect(ask(pool, w, { hold: true })).rejects.toThrow('the echo pool is closed')
    await pool.close()
    await pending
    await expect(ask(pool, w, { value: 1 })).rejects.toThrow('the echo pool is closed')
    expect(pool.closed).toBe(true)
  })

  it('the self-test passes on working workers; a broken worker program fails it and the pool is closed', async () => {
    const good = echoPool(2)
    expect(await good.selfTest(async (w) => void (await ask(good, w, { value: 1 })))).toBe(true)
    await good.close()
    const broken = echoPool(2, { broken: true })
    expect(await broken.selfTest(async (w) => void (await ask(broken, w, { value: 1 })))).toBe(false)
    expect(broken.closed).toBe(true)
    expect(broken.failure?.message).toContain('this worker program is broken')
  })

  it('grow: starts the workers not started at once, each joining once its test passed, up to the size', async () => {
    const pool = echoPool(3, { initial: 1, exposeGc: true })
    try {
      expect(pool.size).toBe(1)
      const tested: number[] = []
      const b = await pool.grow(async (w) => {
        expect(pool.workers).not.toContain(w) // not given work before its test passed
        tested.push((await ask(pool, w, { value: 7 })).value)
      })
      expect(tested).toEqual([7])
      expect(b).toBeDefined()
      expect(pool.workers).toEqual([pool.workers[0], b])
      expect(b!.index).toBe(1)
      expect((await ask(pool, b!, { value: 1 })).gc).toBe('function')
      // a worker whose test fails is ended and never joins
      const failed = await pool.grow(async () => {
        throw new Error('no')
      })
      expect(failed).toBeUndefined()
      expect(pool.size).toBe(2)
      expect(await pool.grow()).toBeDefined()
      expect(await pool.grow()).toBeUndefined() // full
      expect(pool.size).toBe(3)
      expect(typeof globalThis.gc).toBe('undefined')
    } finally {
      await pool.close()
    }
    expect(await pool.grow()).toBeUndefined() // closed
  })

  it('grow: a worker still in its test when the pool closes does not join; its test job fails', async () => {
    const pool = echoPool(2, { initial: 1 })
    let failure: unknown
    const growing = pool.grow(async (w) => {
      failure = await ask(pool, w, { hold: true }).catch((e: unknown) => e)
    })
    await pool.close()
    expect(await growing).toBeUndefined()
    expect(failure).toBeInstanceOf(RusticError)
    expect(pool.size).toBe(1)
  })

  it('exposeGc: the workers have gc(), and the process does not keep the flag', async () => {
    const withGc = echoPool(2, { exposeGc: true })
    try {
      for (const w of withGc.workers) expect((await ask(withGc, w, { value: 0 })).gc).toBe('function')
    } finally {
      await withGc.close()
    }
    // (workers started while a pool's workers start get it too)
    const plain = echoPool(1)
    try {
      expect((await ask(plain, plain.workers[0]!, { value: 0 })).gc).toBe(typeof globalThis.gc)
    } finally {
      await plain.close()
    }
  })

  it('keeps the process alive only while a job is pending, also before the first job', async () => {
    const ports = (): number => process.getActiveResourcesInfo().filter((r) => r === 'MessagePort').length
    const before = ports()
    const pool = echoPool(1)
    try {
      expect(ports()).toBe(before)
      const answer = ask(pool, pool.workers[0]!, { value: 7 })
      expect(ports()).toBe(before + 1)
      expect((await answer).value).toBe(7)
      expect(ports()).toBe(before)
    } finally {
      await pool.close()
    }
  })

  describe('threads handed from one pool to another', () => {
    type HandedOut = { id: number; value: number; data: { n: number }; threadId: number }
    interface HandedJob extends PendingJob {
      done(m: HandedOut): void
    }
    const HANDED = new URL('./fixtures/handed.worker.mjs', import.meta.url)

    /** A pool of core's built scrypt worker (a reusable program) whose `size` workers have each mixed a lane. */
    async function scryptPool(size: number): Promise<WorkerPool<ScryptWorkerIn, ScryptReply, PendingJob & { done(): void }>> {
      const data: ScryptWorkerData = { lanes: new SharedArrayBuffer(size * 128), N: 16, r: 1, shift: 0 }
      const pool: WorkerPool<ScryptWorkerIn, ScryptReply, PendingJob & { done(): void }> = new WorkerPool({
        name: 'scrypt',
        url: workerUrl('scrypt'),
        size,
        setup: () => ({ workerData: data, state: undefined }),
        onMessage: (w, id) => pool.take(w, id)?.done(),
      })
      await Promise.all(pool.workers.map((w, lane) => mixLane(pool, w, lane)))
      return pool
    }

    function mixLane(pool: WorkerPool<ScryptWorkerIn, ScryptReply, PendingJob & { done(): void }>, w: PoolWorker<PendingJob & { done(): void }, undefined>, lane: number): Promise<void> {
      return new Promise<void>((done, fail) => pool.request(w, { done, fail }, (id) => ({ id, lane })))
    }

    function handedPool(size: number, threads: Worker[]): WorkerPool<In, HandedOut, HandedJob> {
      const pool: WorkerPool<In, HandedOut, HandedJob> = new WorkerPool<In, HandedOut, HandedJob>({
        name: 'handed',
        url: HANDED,
        size,
        threads,
        setup: (n) => ({ workerData: { n }, state: undefined }),
        onMessage: (w, m) => pool.take(w, m.id)?.done(m),
      })
      return pool
    }

    function askHanded(pool: WorkerPool<In, HandedOut, HandedJob>, w: PoolWorker<HandedJob, undefined>, value: number): Promise<HandedOut> {
      return new Promise<HandedOut>((resolve, reject) => pool.request(w, { done: resolve, fail: reject }, (id) => ({ id, value })))
    }

    it('release gives an idle worker up: that pool no longer uses, counts or ends it; another pool runs its program there, the messages sent at once in order', async () => {
      const scrypt = await scryptPool(2)
      const [a, b] = scrypt.workers
      // (not while it has a job)
      const mixing = mixLane(scrypt, a!, 0)
      expect(scrypt.release(a!)).toBeUndefined()
      await mixing
      const thread = scrypt.release(a!)
      expect(thread).toBe(a!.thread)
      expect(scrypt.release(a!)).toBeUndefined()
      expect(scrypt.failure).toBeUndefined()
      expect(scrypt.leastBusy()).toBe(b)
      await expect(mixLane(scrypt, a!, 0)).rejects.toThrow(/scrypt worker failed: scrypt worker was given up/)
      await scrypt.close()
      expect(b!.thread.threadId).toBe(-1)
      const id = thread!.threadId
      expect(id).toBeGreaterThan(0)

      const pool = handedPool(2, [thread!])
      try {
        expect(pool.workers[0]!.thread).toBe(thread)
        expect(pool.workers[0]!.online).toBe(true)
        // asked before the program runs there: the messages wait for it, in order
        const answers = await Promise.all([1, 2, 3].map((value) => askHanded(pool, pool.workers[0]!, value)))
        expect(answers.map((m) => [m.value, m.data.n, m.threadId])).toEqual([
          [1, 0, id],
          [2, 0, id],
          [3, 0, id],
        ])
        // the second worker is a new thread
        const other = await askHanded(pool, pool.workers[1]!, 4)
        expect([other.value, other.data.n]).toEqual([4, 1])
        expect(other.threadId).not.toBe(id)
      } finally {
        await pool.close()
      }
      expect(thread!.threadId).toBe(-1)
    })

    it('a thread given up that has ended since is replaced by a new one', async () => {
      const scrypt = await scryptPool(1)
      const thread = scrypt.release(scrypt.workers[0]!)!
      await scrypt.close()
      await thread.terminate()
      const pool = handedPool(1, [thread])
      try {
        expect(pool.workers[0]!.thread).not.toBe(thread)
        expect((await askHanded(pool, pool.workers[0]!, 5)).value).toBe(5)
      } finally {
        await pool.close()
      }
    })
  })
})
