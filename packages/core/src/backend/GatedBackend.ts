import { RusticError } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { CallOptions, FileWriter, WriteBackend } from './Backend.js'
import { ForwardingBackend } from './ForwardingBackend.js'
import type { FileType } from './FileType.js'

/**
 * A backend whose writes wait for a go-ahead: `create`, `writeBytes`, `remove`, `removeStaleTempFiles`
 * and `openFileWriter` wait until {@link GatedBackend.open} is called, and fail with the reason given to
 * {@link GatedBackend.fail} once that is called; reads and lists pass through at once. A backup reads and
 * walks while its lock is being taken through one, so that nothing reaches the repository before the lock
 * is held. A write also stops waiting (code `Aborted`) when its call's signal aborts.
 */
export class GatedBackend extends ForwardingBackend {
  readonly #gate: Promise<void>
  #open!: () => void
  #fail!: (reason: unknown) => void

  /** @param inner - the backend written to once the gate is open. */
  constructor(inner: WriteBackend) {
    super(inner)
    this.#gate = new Promise<void>((resolve, reject) => {
      this.#open = resolve
      this.#fail = reject
    })
    this.#gate.catch(() => {}) // a gate nobody writes through may fail unobserved
  }

  /** Lets writes through, those waiting and all later ones. */
  open(): void {
    this.#open()
  }

  /** Fails the writes waiting and all later ones with `reason` (no effect once open). */
  fail(reason: unknown): void {
    this.#fail(reason)
  }

  /** Waits for the gate (or for `signal`, whichever comes first). */
  private passed(options?: CallOptions): Promise<void> {
    const signal = options?.signal
    if (!signal) return this.#gate
    const aborted = (): RusticError => new RusticError('Internal', 'operation aborted', { code: 'Aborted', cause: signal.reason })
    if (signal.aborted) return Promise.reject(aborted())
    return new Promise<void>((resolve, reject) => {
      const onAbort = (): void => reject(aborted())
      signal.addEventListener('abort', onAbort, { once: true })
      this.#gate.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort))
    })
  }

  /** Waits for the gate, then creates. */
  override async create(options?: CallOptions): Promise<void> {
    await this.passed(options)
    return super.create(options)
  }

  /** Waits for the gate, then writes. */
  override async writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    await this.passed(options)
    return super.writeBytes(type, id, cacheable, data, options)
  }

  /** Waits for the gate, then removes. */
  override async remove(type: FileType, id: Id, cacheable: boolean, options?: CallOptions): Promise<void> {
    await this.passed(options)
    return super.remove(type, id, cacheable, options)
  }

  /** Waits for the gate, then removes the stale temp files. */
  override async removeStaleTempFiles(olderThanMs: number, options?: CallOptions): Promise<number> {
    await this.passed(options)
    return super.removeStaleTempFiles(olderThanMs, options)
  }

  /** Waits for the gate, then opens the inner backend's writer. */
  protected override async forwardFileWriter(type: FileType, cacheable: boolean, options?: CallOptions): Promise<FileWriter | undefined> {
    await this.passed(options)
    return super.forwardFileWriter(type, cacheable, options)
  }
}
