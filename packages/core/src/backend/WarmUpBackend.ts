import pLimit from 'p-limit'
import { z } from 'zod'
import { isRusticError, RusticError, throwIfAborted } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import type { ProgressFactory, WarningHandler } from '../progress/Progress.js'
import { runCommand, splitCommandLine } from '../util/command.js'
import type { CallOptions, WriteBackend } from './Backend.js'
import { abortableSleep } from './backoff.js'
import { filePath } from './FileType.js'
import { ForwardingBackend } from './ForwardingBackend.js'
import type { FileType } from './FileType.js'
import { parseOptions } from '../util/parseOptions.js'

/** Options of {@link WarmUpBackend} (rustic's `warm-up*` repository options), with defaults. */
export const WarmUpOptionsSchema = z.object({
  /**
   * Command (run without a shell; arguments split like a shell, respecting quotes) that warms up files.
   * Singular placeholders `%id` and `%path` run it once per file; plural `%ids` and `%paths` (each a whole
   * argument) run it once per batch with one argument per file. `%tpe` is the file type. `%path`s are
   * relative to the repository (`data/ab/ab12...`). At least one placeholder is required; do not mix kinds.
   */
  warmUpCommand: z.string().min(1).optional(),
  /** Files per batch: plural commands get this many files at once; singular ones run this many at once. Default 1. */
  warmUpBatch: z.number().int().min(1).default(1),
  /** After warming up, wait this long (ms) before reading. */
  warmUpWaitMs: z.number().min(0).optional(),
  /** After warming up, run this command (same placeholders) to wait until files are ready; wins over `warmUpWaitMs`. */
  warmUpWaitCommand: z.string().min(1).optional(),
  /** Warm up by reading one byte of each file (rustic's `warm-up`); makes `needsWarmUp()` true. Default false. */
  warmUpAccess: z.boolean().default(false),
  /** Files warmed up at once through the backend's `warmUp`. Default 20. */
  concurrency: z.number().int().min(1).default(20),
  /** Progress factory (a counter per warm-up). */
  progress: z.custom<ProgressFactory>((v) => typeof v === 'function').optional(),
  /** Receives warnings (a failed backend warm-up of one file). */
  onWarning: z.custom<WarningHandler>((v) => typeof v === 'function').optional(),
})

/** Options of {@link WarmUpBackend}; see {@link WarmUpOptionsSchema} for defaults. */
export type WarmUpOptions = z.input<typeof WarmUpOptionsSchema>

/** A warm-up command split into arguments, with its placeholder mode. */
export interface WarmUpCommand {
  /** The command line as given. */
  line: string
  /** Its arguments (program first), placeholders not yet replaced. */
  argv: string[]
  /** True for `%ids`/`%paths` (one run per batch), false for `%id`/`%path` (one run per file). */
  plural: boolean
}

const PLACEHOLDER = (name: string): RegExp => new RegExp(`${name}(?![\\p{L}\\p{N}])`, 'u')

/**
 * Parses a warm-up command: splits it into arguments and checks its placeholders (at least one of
 * `%id`, `%ids`, `%path`, `%paths`; singular and plural not mixed). Throws a `Configuration` error otherwise.
 */
export function parseWarmUpCommand(line: string): WarmUpCommand {
  let argv: string[]
  try {
    argv = splitCommandLine(line)
  } catch (err) {
    throw new RusticError('Configuration', `cannot parse warm-up command "${line}": ${(err as Error).message}`, { cause: err })
  }
  if (argv.length === 0) throw new RusticError('Configuration', 'the warm-up command is empty')
  const has = (p: string): boolean => argv.some((a) => PLACEHOLDER(p).test(a))
  const singular = has('%id') || has('%path')
  const plural = has('%ids') || has('%paths')
  if (!singular && !plural) {
    throw new RusticError(
      'Configuration',
      `no placeholder in warm-up command "${line}": give at least one of %id, %ids, %path, %paths`,
    )
  }
  if (singular && plural) {
    throw new RusticError(
      'Configuration',
      `warm-up command "${line}" mixes singular (%id, %path) and plural (%ids, %paths) placeholders`,
    )
  }
  return { line, argv, plural }
}

/**
 * Wraps a backend to warm up files before they are read (for cold storage such as S3 Glacier),
 * like rustic_core: with a warm-up command, with the backend's own `warmUp`, or by reading a byte;
 * then waits (a fixed time or a wait command). All other calls pass through.
 */
export class WarmUpBackend extends ForwardingBackend {
  private readonly opts: z.output<typeof WarmUpOptionsSchema>
  private readonly command: WarmUpCommand | undefined
  private readonly waitCommand: WarmUpCommand | undefined

  /**
   * @param inner - the backend to read from.
   * @param options - warm-up command, batch size, wait.
   */
  constructor(inner: WriteBackend, options: WarmUpOptions = {}) {
    super(inner)
    this.opts = parseOptions(WarmUpOptionsSchema, options, 'warm-up options')
    this.command = this.opts.warmUpCommand === undefined ? undefined : parseWarmUpCommand(this.opts.warmUpCommand)
    this.waitCommand = this.opts.warmUpWaitCommand === undefined ? undefined : parseWarmUpCommand(this.opts.warmUpWaitCommand)
  }

  /** Warms up packs and waits until they are ready (see {@link WarmUpBackend.warmUpFiles}). */
  warmUpPacks(ids: Id[], signal?: AbortSignal): Promise<void> {
    return this.warmUpFiles('pack', ids, signal)
  }

  /**
   * Warms up files, then waits. With a warm-up command, runs it; otherwise, if the backend needs
   * warm-up, calls `warmUp` for each file (failures become warnings). Then runs the wait command or
   * waits `warmUpWaitMs`. Does nothing for an empty list. Command failures throw `ExternalCommand` errors.
   */
  async warmUpFiles(type: FileType, ids: Id[], signal?: AbortSignal): Promise<void> {
    if (ids.length === 0) return
    throwIfAborted(signal)
    if (this.command !== undefined) {
      await this.runCommand(this.command, type, ids, 'warm-up', signal)
    } else if (this.needsWarmUp()) {
      await this.warmUpThroughBackend(type, ids, signal)
    }
    if (this.waitCommand !== undefined) {
      await this.runCommand(this.waitCommand, type, ids, 'warm-up wait', signal)
    } else if (this.opts.warmUpWaitMs !== undefined && this.opts.warmUpWaitMs > 0) {
      const p = this.opts.progress?.('spinner', `waiting ${this.opts.warmUpWaitMs} ms for warm-up...`)
      try {
        await abortableSleep(this.opts.warmUpWaitMs, signal)
      } finally {
        p?.finish()
      }
    }
  }

  private async warmUpThroughBackend(type: FileType, ids: Id[], signal?: AbortSignal): Promise<void> {
    const p = this.opts.progress?.('counter', `warming up ${type}s...`)
    p?.setLength(ids.length)
    const limit = pLimit(this.opts.concurrency)
    try {
      await Promise.all(
        ids.map((id) =>
          limit(async () => {
            throwIfAborted(signal)
            try {
              await this.warmUp(type, id, signal === undefined ? undefined : { signal })
            } catch (err) {
              throwIfAborted(signal)
              this.opts.onWarning?.(`warm-up of ${type} ${id} failed: ${(err as Error).message}`, err)
            }
            p?.inc(1)
          }),
        ),
      )
    } finally {
      p?.finish()
    }
  }

  private async runCommand(cmd: WarmUpCommand, type: FileType, ids: Id[], what: string, signal?: AbortSignal): Promise<void> {
    const p = this.opts.progress?.('counter', what === 'warm-up' ? `warming up ${type}s...` : `waiting for ${type}s to be ready...`)
    p?.setLength(ids.length)
    const batch = this.opts.warmUpBatch
    const opts = signal === undefined ? {} : { signal }
    try {
      for (let i = 0; i < ids.length; i += batch) {
        throwIfAborted(signal)
        const part = ids.slice(i, i + batch)
        if (cmd.plural) {
          const argv: string[] = []
          for (const a of cmd.argv) {
            if (PLACEHOLDER('%ids').test(a)) argv.push(...part)
            else if (PLACEHOLDER('%paths').test(a)) argv.push(...part.map((id) => filePath(type, id)))
            else argv.push(a.replaceAll('%tpe', type))
          }
          await this.run(argv, `${what} command for ${part.length} ${type}(s)`, opts)
        } else {
          const results = await Promise.allSettled(
            part.map((id) => {
              const argv = cmd.argv.map((a) =>
                a.replaceAll('%tpe', type).replaceAll('%id', id).replaceAll('%path', filePath(type, id)),
              )
              return this.run(argv, `${what} command for ${type} ${id}`, opts)
            }),
          )
          const failed = results.flatMap((r) => (r.status === 'rejected' ? [r.reason as Error] : []))
          throwIfAborted(signal)
          if (failed.length === 1) throw failed[0]
          if (failed.length > 1) {
            throw new RusticError(
              'ExternalCommand',
              `${what} command failed for ${failed.length}/${part.length} ${type}(s): ${failed.map((e) => e.message).join('; ')}`,
              { code: 'CommandFailed', cause: failed[0] },
            )
          }
        }
        p?.inc(part.length)
      }
    } finally {
      p?.finish()
    }
  }

  private async run(argv: string[], what: string, opts: { signal?: AbortSignal }): Promise<void> {
    try {
      await runCommand(argv, what, opts)
    } catch (err) {
      if (isRusticError(err) && err.kind === 'ExternalCommand') throw err
      throw new RusticError('ExternalCommand', `${what}: ${(err as Error).message}`, { code: 'CommandFailed', cause: err })
    }
  }

  /** True if `warmUpAccess` is set or the inner backend needs warm-up. */
  override needsWarmUp(): boolean {
    return this.opts.warmUpAccess || (this.inner.needsWarmUp?.() ?? false)
  }

  /**
   * Warms up one file: with `warmUpAccess`, reads its first byte (ignoring errors: cold files are
   * expected to fail); otherwise calls the inner backend's `warmUp` (if any).
   */
  override async warmUp(type: FileType, id: Id, options?: CallOptions): Promise<void> {
    if (this.opts.warmUpAccess) {
      await this.inner.readPartial(type, id, false, 0, 1, options).catch(() => {})
      return
    }
    await this.inner.warmUp?.(type, id, options)
  }
}
