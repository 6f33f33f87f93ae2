import { z } from 'zod'
import { throwIfAborted } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { CallOptions, FileWriter, WriteBackend } from './Backend.js'
import { isBackendError, type BackendError } from './BackendError.js'
import { abortableSleep, backoffDelay } from './backoff.js'
import { fileName } from './DecryptBackend.js'
import type { FileType } from './FileType.js'
import { parseOptions } from '../util/parseOptions.js'

/** Called before each retry with the error, the retry number (1-based), the delay and the call's description. */
export type OnRetry = (error: BackendError, retry: number, delayMs: number, call: string) => void

/** Default of {@link RetryOptions.maxElapsedMs}: 5 minutes. */
export const DEFAULT_RETRY_ELAPSED_MS = 5 * 60_000

/** zod schema of {@link RetryOptions}, with defaults. */
export const RetryOptionsSchema = z.object({
  /**
   * Time budget of a call, in ms: no retry starts once this long has passed since its first attempt
   * (counting the wait before it). Default 5 minutes, so a storage outage of a minute or two is
   * survived (restic 0.14 gives up after about one).
   */
  maxElapsedMs: z.number().min(0).default(DEFAULT_RETRY_ELAPSED_MS),
  /** Most retries after the first attempt; default: as many as fit in `maxElapsedMs`. */
  maxRetries: z.number().int().min(0).optional(),
  /** Delay before the first retry in ms (before jitter); it doubles with each retry. Default 100. */
  baseDelayMs: z.number().min(0).default(100),
  /** Longest delay between two attempts in ms. Default 30 000. */
  maxDelayMs: z.number().min(0).default(30_000),
  /** Full jitter (each delay uniform in [0, delay]). Default true. */
  jitter: z.boolean().default(true),
  /** Called before each retry (e.g. to log it). */
  onRetry: z.custom<OnRetry>((v) => typeof v === 'function').optional(),
})

/** Options of {@link RetryBackend}; see {@link RetryOptionsSchema} for the defaults. */
export type RetryOptions = z.input<typeof RetryOptionsSchema>

/**
 * Retries calls that fail with a transient {@link BackendError} (`isTransient`), with exponential
 * backoff and full jitter, for as long as the time budget `maxElapsedMs` (5 minutes by default) and
 * `maxRetries` (if given) allow. Other errors surface at once; after the last retry the last error
 * surfaces unchanged. An abort during a backoff wait rejects promptly with code `Aborted`.
 */
export class RetryBackend implements WriteBackend {
  private readonly opts: z.output<typeof RetryOptionsSchema>
  /**
   * Present when the inner backend has one: opening the writer is retried; its writes are not (a file
   * streamed so far cannot be sent again), so a transient failure while streaming fails the file.
   */
  declare readonly openFileWriter?: (type: FileType, cacheable: boolean, options?: CallOptions) => Promise<FileWriter | undefined>

  /**
   * @param inner - the backend whose calls are retried.
   * @param options - time budget, retry count and backoff.
   */
  constructor(
    readonly inner: WriteBackend,
    options: RetryOptions = {},
  ) {
    this.opts = parseOptions(RetryOptionsSchema, options, 'retry options')
    const open = inner.openFileWriter
    if (typeof open === 'function') {
      Object.defineProperty(this, 'openFileWriter', {
        value: (type: FileType, cacheable: boolean, o?: CallOptions) =>
          this.retry(`open a writer for ${type}`, o?.signal, () => open.call(inner, type, cacheable, o)),
      })
    }
  }

  private async retry<T>(call: string, signal: AbortSignal | undefined, fn: () => Promise<T>): Promise<T> {
    const started = Date.now()
    for (let attempt = 0; ; attempt++) {
      throwIfAborted(signal)
      try {
        return await fn()
      } catch (err) {
        if (!isBackendError(err) || !err.isTransient) throw err
        if (this.opts.maxRetries !== undefined && attempt >= this.opts.maxRetries) throw err
        const delay = backoffDelay(attempt, this.opts)
        if (Date.now() - started + delay > this.opts.maxElapsedMs) throw err
        throwIfAborted(signal)
        this.opts.onRetry?.(err, attempt + 1, delay, call)
        await abortableSleep(delay, signal)
      }
    }
  }

  /** Passes through, without retries (a cleanup that fails is tried again by the next backup). */
  async removeStaleTempFiles(olderThanMs: number, options?: CallOptions): Promise<number> {
    return (await this.inner.removeStaleTempFiles?.(olderThanMs, options)) ?? 0
  }

  /** The inner backend's location. */
  location(): string {
    return this.inner.location()
  }

  /** Forwards, retrying transient errors. */
  create(options?: CallOptions): Promise<void> {
    return this.retry('create', options?.signal, () => this.inner.create(options))
  }

  /** Forwards, retrying transient errors. */
  list(type: FileType, options?: CallOptions): Promise<Id[]> {
    return this.retry(`list ${type}`, options?.signal, () => this.inner.list(type, options))
  }

  /** Forwards, retrying transient errors. */
  listWithSize(type: FileType, options?: CallOptions): Promise<Array<[Id, number]>> {
    return this.retry(`list ${type}`, options?.signal, () => this.inner.listWithSize(type, options))
  }

  /** Forwards, retrying transient errors. */
  readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    return this.retry(`read ${fileName(type, id)}`, options?.signal, () => this.inner.readFull(type, id, options))
  }

  /** Forwards, retrying transient errors. */
  readPartial(
    type: FileType,
    id: Id,
    cacheable: boolean,
    offset: number,
    length: number,
    options?: CallOptions,
  ): Promise<Uint8Array> {
    return this.retry(`read ${fileName(type, id)}`, options?.signal, () =>
      this.inner.readPartial(type, id, cacheable, offset, length, options),
    )
  }

  /** Forwards, retrying transient errors. */
  writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    return this.retry(`write ${fileName(type, id)}`, options?.signal, () => this.inner.writeBytes(type, id, cacheable, data, options))
  }

  /** Forwards, retrying transient errors. */
  remove(type: FileType, id: Id, cacheable: boolean, options?: CallOptions): Promise<void> {
    return this.retry(`remove ${fileName(type, id)}`, options?.signal, () => this.inner.remove(type, id, cacheable, options))
  }

  /** The inner backend's answer. */
  needsWarmUp(): boolean {
    return this.inner.needsWarmUp?.() ?? false
  }

  /** Forwards, retrying transient errors (a no-op if the inner backend has no `warmUp`). */
  async warmUp(type: FileType, id: Id, options?: CallOptions): Promise<void> {
    const inner = this.inner
    if (inner.warmUp === undefined) return
    await this.retry(`warm up ${fileName(type, id)}`, options?.signal, () => inner.warmUp!(type, id, options))
  }

  /** Closes the inner backend. */
  async close(): Promise<void> {
    await this.inner.close?.()
  }
}
