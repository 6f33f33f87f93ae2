import type { Repository } from '../../repository/Repository.js'
import { parseOptions } from '../../util/parseOptions.js'
import { RestoreOptionsSchema, type RestoreOptions } from './RestoreOptions.js'
import { RestorePool } from './RestorePool.js'
import { restorePoolSize } from './writeContents.js'

/**
 * Restore's worker threads started ahead of the plan (`RestoreWorkers.start`), so that their start-up (an
 * isolate each, the native modules, a self-test: ~0.15 s of CPU) runs on an idle core while this thread loads
 * the index and plans, instead of at the start of the data phase, when this thread works on ranges alone
 * until they join. Hand them to `IndexedRepository.restore`, which uses them when the plan needs as many
 * (else it starts the right number itself) and closes them in any case; whoever does not restore after all
 * (a dry run, a failed plan) calls {@link RestoreWorkers.close}.
 */
export class RestoreWorkers {
  private taken = false

  private constructor(
    private readonly repo: Repository,
    /** Worker threads started (what `restore` would start for a plan that reads enough). */
    readonly size: number,
    private readonly started: Promise<RestorePool | undefined>,
  ) {}

  /**
   * Starts the worker threads a restore with `options` (the plan's options) starts for a large plan: one per
   * thread of `workers` (at most `readConcurrency`) but the main thread, at least one; none with `workers: 0`.
   */
  static start(repo: Repository, options: RestoreOptions = {}): RestoreWorkers {
    const opts = parseOptions(RestoreOptionsSchema, options, 'restore options')
    const size = restorePoolSize(Math.min(opts.workers, opts.readConcurrency))
    const started = size === 0 ? Promise.resolve(undefined) : RestorePool.start(repo.key, size)
    started.catch(() => {}) // (awaited later, by the restore or by close: not an unhandled rejection meanwhile)
    return new RestoreWorkers(repo, size, started)
  }

  /**
   * The pool, for a restore of `repo` that wants `size` worker threads: once only, and only if it has that
   * many (and the same key); `undefined` otherwise (the caller starts its own and closes these).
   */
  take(repo: Repository, size: number): Promise<RestorePool | undefined> | undefined {
    if (this.taken || size !== this.size || size === 0 || !repo.key.equals(this.repo.key)) return undefined
    this.taken = true
    return this.started
  }

  /** Ends the workers unless a restore took them (it closes them itself). Safe to call more than once. */
  async close(): Promise<void> {
    if (this.taken) return
    this.taken = true
    await (await this.started.catch(() => undefined))?.close()
  }
}
