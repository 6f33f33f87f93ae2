import { z } from 'zod'
import { RusticError } from '../../error/RusticError.js'
import { IdSchema } from '../../repofile/decodeJson.js'
import { parseDuration } from '../../util/duration.js'
import { parseSize } from '../../util/size.js'
import { zodParse } from '../../util/zodParse.js'
import { parseOptions } from '../../util/parseOptions.js'

/**
 * A size limit of prune: a percentage (of the used data for `maxUnused`, of the repository for
 * `maxRepack`), a number of bytes, or no limit.
 */
export type SizeLimit = { kind: 'percent'; percent: number } | { kind: 'bytes'; bytes: number } | { kind: 'unlimited' }

/**
 * Reads a size limit as restic and rustic take it: `5%`, `10M`, `2GiB`, `500` (bytes), `unlimited`,
 * or a number of bytes.
 * @throws RusticError `InvalidInput` naming the text.
 */
export function parseSizeLimit(value: string | number): SizeLimit {
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw badLimit(String(value), 'a byte count must be a whole number >= 0')
    return { kind: 'bytes', bytes: value }
  }
  const text = value.trim()
  if (text === 'unlimited') return { kind: 'unlimited' }
  if (text.endsWith('%')) {
    const percent = Number(text.slice(0, -1).trim())
    if (text.length === 1 || !Number.isFinite(percent) || percent < 0 || percent >= 100) {
      throw badLimit(value, 'a percentage must be at least 0 and below 100')
    }
    return { kind: 'percent', percent }
  }
  try {
    return { kind: 'bytes', bytes: parseSize(text) }
  } catch {
    throw badLimit(value, 'expected a percentage (5%), a size (10M, 2GiB, 500) or "unlimited"')
  }
}

function badLimit(text: string, why: string): RusticError {
  return new RusticError('InvalidInput', `invalid size limit "${text}": ${why}`, { code: 'InvalidOptions' })
}

/** Reads a duration (`23h`, `90d`, `10m`, `0`) or takes milliseconds. */
function durationMs(value: string | number): number {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value < 0) throw new RusticError('InvalidInput', `invalid duration ${value}: milliseconds must be >= 0`, { code: 'InvalidOptions' })
    return value
  }
  return value.trim() === '0' ? 0 : parseDuration(value)
}

const LimitSchema = z.union([z.string(), z.number()]).transform(zodParse(parseSizeLimit))
const DurationSchema = z.union([z.string(), z.number()]).transform(zodParse(durationMs))

/**
 * Options of prune (rustic's `PruneOptions`, with restic 0.14's names where restic has the option).
 * In profile files and on the command line the same names are kebab-case (`max-unused`).
 */
export const PruneOptionsSchema = z
  .object({
    /**
     * Unused data tolerated after pruning (restic's and rustic's `--max-unused`): a percentage of the
     * used data (`5%`: unused ≤ 5% of the repository after pruning), a size (`1G`) or `unlimited`.
     * Partly used data packs are repacked until the limit is met. Default `5%`.
     */
    maxUnused: LimitSchema.prefault('5%'),
    /**
     * Most data to repack in one prune (rustic's `--max-repack`, restic's `--max-repack-size`): a size, a
     * percentage of the repository or `unlimited`. Default `10%`, as rustic (restic: unlimited): a prune
     * that cannot reach `maxUnused` within it repacks the rest in later runs.
     */
    maxRepack: LimitSchema.prefault('10%'),
    /**
     * Packs younger than this are neither repacked nor marked for deletion (rustic's `--keep-pack`):
     * a duration such as `90d`, or milliseconds. Default 0.
     */
    keepPack: DurationSchema.prefault(0),
    /**
     * How long a pack stays marked for deletion before a later prune removes it (rustic's
     * `--keep-delete`): a duration or milliseconds. Default `23h`. A backup that was running without
     * locks while the pack was marked has finished by then; if its snapshot needs the pack, the next
     * prune takes the pack back instead.
     */
    keepDelete: DurationSchema.prefault('23h'),
    /**
     * Remove packs at once instead of marking them, and remove the packs marked before regardless of
     * their age (rustic's `--instant-delete`; restic always does). Only safe while no other client
     * writes to the repository: keep locking on.
     */
    instantDelete: z.boolean().default(false),
    /** Repack packs holding uncompressed blobs, compressing them (v2 repositories; restic and rustic `--repack-uncompressed`). Implies `maxUnused` 0. */
    repackUncompressed: z.boolean().default(false),
    /** Repack every pack (rustic's `--repack-all`). Implies `maxUnused` 0. */
    repackAll: z.boolean().default(false),
    /**
     * Also count packs below 80% of the target pack size as too small (restic's `--repack-small`;
     * otherwise below the config's `min_packsize_tolerate_percent`, default 30%). Too small (and too
     * large) packs are merged when packs of their type are repacked anyway or add up to a full pack.
     */
    repackSmall: z.boolean().default(false),
    /** Repack only packs that are cached (tree packs): data packs are kept (restic's and rustic's `--repack-cacheable-only`). */
    repackCacheableOnly: z.boolean().default(false),
    /** Do not repack packs only because their size is off the target (rustic's `--no-resize`). */
    noResize: z.boolean().default(false),
    /**
     * Copy repacked blobs as stored, without opening them (rustic's `--fast-repack`). By default each
     * blob is decrypted and checked against its id before it is copied, so that a damaged blob is
     * found instead of copied. Cannot be combined with `repackUncompressed`.
     */
    fastRepack: z.boolean().default(false),
    /**
     * Take no lock and ignore other clients' locks (rustic-only repositories: two-phase deletion is then
     * what keeps a running backup's data). Without it, prune takes an exclusive lock and refuses while
     * another client holds any lock.
     */
    ignoreLocks: z.boolean().default(false),
    /**
     * Snapshots whose data counts as unneeded (rustic's `ignore_snaps`; restic's `forget --prune
     * --dry-run` uses it to show what pruning after the forget would do). Carrying out such a plan
     * removes data those snapshots need: only for snapshots about to be removed.
     */
    ignoreSnapshots: z.array(IdSchema).default([]),
    /** Plan only: `Repository.prune` then changes nothing and reports what it would do. */
    dryRun: z.boolean().default(false),
    /** The time prune runs at (default: now): decides which packs are old enough (`keepPack`, `keepDelete`) and is written into marks. */
    now: z.date().optional(),
  })
  .strict()
  .refine((o) => !(o.fastRepack && o.repackUncompressed), {
    message: 'fastRepack copies blobs as stored and cannot compress them: do not combine it with repackUncompressed',
    path: ['fastRepack'],
  })

/** Options of prune; see {@link PruneOptionsSchema} for the defaults. */
export type PruneOptions = z.input<typeof PruneOptionsSchema>

/** Prune options with every default filled in and every limit and duration read. */
export type ResolvedPruneOptions = z.output<typeof PruneOptionsSchema>

/**
 * Validates prune options.
 * @throws RusticError `InvalidOptions` naming each invalid field.
 */
export function parsePruneOptions(input: PruneOptions | undefined): ResolvedPruneOptions {
  return parseOptions(PruneOptionsSchema, input, 'prune options')
}
