import { BackendError, throwIfAborted } from '@rustic-ts/core'
import type { BackendErrorKind, CallOptions, FileType, Id, WriteBackend } from '@rustic-ts/core'
import type { BackendMethod } from './CountingBackend.js'
import { seededRandom } from './prng.js'

/** Options for {@link FaultInjectingBackend}. */
export interface FaultInjectionOptions {
  /** Fraction of calls (0..1) that fail with an injected error. Default 0.1. */
  faultRate?: number
  /** Seed of the pseudo-random generator; the same seed gives the same faults. Default 1. */
  seed?: number
  /** Kind of the injected errors. Default `Transient` (so they are transient). */
  kind?: BackendErrorKind
  /** Whether injected errors are transient. Default: as the kind says. */
  transient?: boolean
  /** Fraction (0..1) of injected faults raised *after* the inner call succeeded (a lost reply). Default 0. */
  afterFraction?: number
  /** Added latency per call in ms: a number, or `[min, max]` drawn uniformly. Default 0. */
  latencyMs?: number | [number, number]
  /** Methods that may fail. Default: all but `location`. */
  methods?: BackendMethod[]
}

const ALL_METHODS: BackendMethod[] = [
  'create',
  'list',
  'listWithSize',
  'readFull',
  'readPartial',
  'writeBytes',
  'remove',
  'warmUp',
]

/**
 * Wraps a backend and makes a fraction of calls fail with (by default transient) `BackendError`s,
 * chosen by a seeded PRNG so that runs are reproducible; optionally adds latency.
 * Counts calls and injected faults. For testing retry logic and error handling.
 */
export class FaultInjectingBackend implements WriteBackend {
  /** Number of calls per method (including failed ones). */
  readonly calls: Record<BackendMethod, number> = emptyCounts()
  /** Number of injected faults per method. */
  readonly faults: Record<BackendMethod, number> = emptyCounts()
  /** Fraction of calls that fail; may be changed at any time. */
  faultRate: number
  private readonly random: () => number
  private readonly kind: BackendErrorKind
  private readonly transient: boolean | undefined
  private readonly afterFraction: number
  private readonly latency: [number, number]
  private readonly methods: Set<BackendMethod>
  private forced = 0

  /**
   * @param inner - the backend that serves calls that do not fail.
   * @param options - fault rate, seed, error kind, latency.
   */
  constructor(
    readonly inner: WriteBackend,
    options: FaultInjectionOptions = {},
  ) {
    this.faultRate = options.faultRate ?? 0.1
    if (!(this.faultRate >= 0 && this.faultRate <= 1)) throw new RangeError('faultRate must be within 0..1')
    this.random = seededRandom(options.seed ?? 1)
    this.kind = options.kind ?? 'Transient'
    this.transient = options.transient
    this.afterFraction = options.afterFraction ?? 0
    const l = options.latencyMs ?? 0
    this.latency = typeof l === 'number' ? [l, l] : l
    this.methods = new Set(options.methods ?? ALL_METHODS)
  }

  /** Total injected faults. */
  get totalFaults(): number {
    return Object.values(this.faults).reduce((a, b) => a + b, 0)
  }

  /** Total calls. */
  get totalCalls(): number {
    return Object.values(this.calls).reduce((a, b) => a + b, 0)
  }

  /** Makes the next `count` calls (of the methods that may fail) fail, regardless of the fault rate. */
  failNext(count = 1): void {
    this.forced += count
  }

  private async call<T>(method: BackendMethod, what: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    this.calls[method]++
    throwIfAborted(signal)
    const [min, max] = this.latency
    if (max > 0) await sleep(min + this.random() * (max - min), signal)
    let fail = false
    let after = false
    if (this.methods.has(method)) {
      if (this.forced > 0) {
        this.forced--
        fail = true
      } else {
        fail = this.random() < this.faultRate
      }
      if (fail) after = this.afterFraction > 0 && this.random() < this.afterFraction
    }
    if (fail && !after) throw this.fault(method, what)
    const result = await fn()
    if (fail) throw this.fault(method, what)
    return result
  }

  private fault(method: BackendMethod, what: string): BackendError {
    this.faults[method]++
    const opts = this.transient === undefined ? {} : { transient: this.transient }
    return new BackendError(this.kind, `injected fault in ${method} ${what}`.trimEnd(), opts)
  }

  /** The inner backend's location. */
  location(): string {
    return this.inner.location()
  }

  /** Forwards, possibly failing. */
  create(options?: CallOptions): Promise<void> {
    return this.call('create', '', options?.signal, () => this.inner.create(options))
  }

  /** Forwards, possibly failing. */
  list(type: FileType, options?: CallOptions): Promise<Id[]> {
    return this.call('list', type, options?.signal, () => this.inner.list(type, options))
  }

  /** Forwards, possibly failing. */
  listWithSize(type: FileType, options?: CallOptions): Promise<Array<[Id, number]>> {
    return this.call('listWithSize', type, options?.signal, () => this.inner.listWithSize(type, options))
  }

  /** Forwards, possibly failing. */
  readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    return this.call('readFull', `${type} ${id}`, options?.signal, () => this.inner.readFull(type, id, options))
  }

  /** Forwards, possibly failing. */
  readPartial(
    type: FileType,
    id: Id,
    cacheable: boolean,
    offset: number,
    length: number,
    options?: CallOptions,
  ): Promise<Uint8Array> {
    return this.call('readPartial', `${type} ${id}`, options?.signal, () =>
      this.inner.readPartial(type, id, cacheable, offset, length, options),
    )
  }

  /** Forwards, possibly failing. */
  writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    return this.call('writeBytes', `${type} ${id}`, options?.signal, () =>
      this.inner.writeBytes(type, id, cacheable, data, options),
    )
  }

  /** Forwards, possibly failing. */
  remove(type: FileType, id: Id, cacheable: boolean, options?: CallOptions): Promise<void> {
    return this.call('remove', `${type} ${id}`, options?.signal, () => this.inner.remove(type, id, cacheable, options))
  }

  /** Forwards to the inner backend. */
  needsWarmUp(): boolean {
    return this.inner.needsWarmUp?.() ?? false
  }

  /** Forwards, possibly failing (a no-op if the inner backend has no `warmUp`). */
  warmUp(type: FileType, id: Id, options?: CallOptions): Promise<void> {
    return this.call('warmUp', `${type} ${id}`, options?.signal, async () => {
      await this.inner.warmUp?.(type, id, options)
    })
  }

  /** Forwards to the inner backend. */
  async close(): Promise<void> {
    await this.inner.close?.()
  }
}

function emptyCounts(): Record<BackendMethod, number> {
  return {
    location: 0,
    create: 0,
    list: 0,
    listWithSize: 0,
    readFull: 0,
    readPartial: 0,
    writeBytes: 0,
    remove: 0,
    warmUp: 0,
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer)
      try {
        throwIfAborted(signal)
      } catch (e) {
        reject(e)
      }
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort)
      resolve()
    }, ms)
    signal?.addEventListener('abort', onAbort, { once: true })
  })
}
