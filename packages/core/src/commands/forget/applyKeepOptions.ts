import type { SnapshotFile } from '../../repofile/index.js'
import { hasTags } from '../../repository/SnapshotFilter.js'
import { deletePolicyAt } from '../snapshots/deletePolicy.js'
import { formatCalendarDuration, isZeroDuration, type CalendarDuration } from './CalendarDuration.js'
import type { ForgetSnapshot, KeepCounters } from './ForgetPlan.js'
import type { ResolvedKeepOptions } from './KeepOptions.js'
import { instantBefore, snapshotClock, type SnapshotClock } from './SnapshotClock.js'

/** A period a snapshot falls in, as a number equal for snapshots of the same period. */
type PeriodOf = (c: SnapshotClock, nr: number) => number

const minute: PeriodOf = (c) => ((c.year * 100 + c.month) * 100 + c.day) * 10_000 + c.hour * 100 + c.minute
const hour: PeriodOf = (c) => ((c.year * 100 + c.month) * 100 + c.day) * 100 + c.hour
const day: PeriodOf = (c) => (c.year * 100 + c.month) * 100 + c.day
const week: PeriodOf = (c) => c.isoYear * 100 + c.isoWeek
const month: PeriodOf = (c) => c.year * 100 + c.month
const quarter: PeriodOf = (c) => c.year * 10 + Math.floor((c.month - 1) / 3)
const halfYear: PeriodOf = (c) => c.year * 10 + Math.floor((c.month - 1) / 6)
const year: PeriodOf = (c) => c.year
const each: PeriodOf = (_c, nr) => nr

/** The periods, with the count option, the within option, the counter name and the reason words. */
const PERIODS = [
  { count: 'keepLast', within: undefined, counter: 'last', name: 'last', period: each },
  { count: 'keepMinutely', within: 'keepWithinMinutely', counter: 'minutely', name: 'minutely', period: minute },
  { count: 'keepHourly', within: 'keepWithinHourly', counter: 'hourly', name: 'hourly', period: hour },
  { count: 'keepDaily', within: 'keepWithinDaily', counter: 'daily', name: 'daily', period: day },
  { count: 'keepWeekly', within: 'keepWithinWeekly', counter: 'weekly', name: 'weekly', period: week },
  { count: 'keepMonthly', within: 'keepWithinMonthly', counter: 'monthly', name: 'monthly', period: month },
  { count: 'keepQuarterYearly', within: 'keepWithinQuarterYearly', counter: 'quarterYearly', name: 'quarter-yearly', period: quarter },
  { count: 'keepHalfYearly', within: 'keepWithinHalfYearly', counter: 'halfYearly', name: 'half-yearly', period: halfYear },
  { count: 'keepYearly', within: 'keepWithinYearly', counter: 'yearly', name: 'yearly', period: year },
] as const

/** A count option being used up: how many periods are left (-1 = unlimited) and the last period kept. */
interface CountBucket {
  left: number
  last: number
  counter: keyof KeepCounters
  reason: string
  period: PeriodOf
}

/** A within option: the instant snapshots must be after, and the last period kept. */
interface WithinBucket {
  after: bigint
  last: number
  reason: string
  period: PeriodOf
}

/** Newest first by instant; equal instants by id, larger first (the reverse of the oldest-first order). */
function newestFirst(a: { snap: SnapshotFile; clock: SnapshotClock }, b: { snap: SnapshotFile; clock: SnapshotClock }): number {
  if (a.clock.unixNs !== b.clock.unixNs) return a.clock.unixNs > b.clock.unixNs ? -1 : 1
  const ia = a.snap.id ?? ''
  const ib = b.snap.id ?? ''
  return ia > ib ? -1 : ia < ib ? 1 : 0
}

/** The tree of the next older snapshot after `list[nr]` that its delete policy does not remove. */
function nextOlderTree(list: readonly { snap: SnapshotFile }[], nr: number, nowNs: bigint): string | undefined {
  for (let i = nr + 1; i < list.length; i++) {
    const s = list[i]!.snap
    if (deletePolicyAt(s, nowNs).state !== 'expired') return s.tree
  }
  return undefined
}

/**
 * Decides which snapshots of one group to keep (rustic's `KeepOptions::apply`, with restic 0.14's
 * `ApplyPolicy` rules for everything restic has). Returns the snapshots newest first.
 *
 * In order, for each snapshot from the newest: a delete policy decides first (`never` or a future
 * `after` keeps it, a past `after` removes it; neither uses up a count); with `deleteUnchanged` a
 * snapshot whose next older snapshot (skipping those a passed `after` removes) has the same tree goes;
 * otherwise it is kept if its id or tags match, if it is within `keepWithin` of the newest, or if it is
 * the newest of a period not yet counted (restic's buckets: a count option keeps the newest snapshot of
 * each of its N newest periods, a within option the newest of each period within its duration). The
 * newest snapshot is the newest not in the future (after `now`), as restic takes it.
 * @param now - judges delete policies and which snapshots are in the future.
 */
export function applyKeepOptions(snapshots: readonly SnapshotFile[], keep: ResolvedKeepOptions, now: Date): ForgetSnapshot[] {
  const nowNs = BigInt(now.getTime()) * 1_000_000n
  const list = snapshots.map((snap) => ({ snap, clock: snapshotClock(snap.time) })).sort(newestFirst)

  let latest: SnapshotClock | undefined
  for (const { clock } of list) {
    if (clock.unixNs < nowNs && (latest === undefined || clock.unixNs > latest.unixNs)) latest = clock
  }
  const withinAfter = (d: CalendarDuration | undefined): bigint | undefined =>
    d === undefined || isZeroDuration(d) ? undefined : latest === undefined ? -(1n << 100n) : instantBefore(latest, d)

  const counts: CountBucket[] = []
  const withins: WithinBucket[] = []
  for (const p of PERIODS) {
    const n = keep[p.count]
    if (n !== undefined && n !== 0) counts.push({ left: n, last: -1, counter: p.counter, reason: `${p.name} snapshot`, period: p.period })
    const d = p.within === undefined ? undefined : keep[p.within]
    const after = withinAfter(d)
    if (after !== undefined) withins.push({ after, last: -1, reason: `${p.name} within ${formatCalendarDuration(d!)}`, period: p.period })
  }
  const within = withinAfter(keep.keepWithin)
  const withinReason = keep.keepWithin === undefined ? '' : `within ${formatCalendarDuration(keep.keepWithin)}`

  const out: ForgetSnapshot[] = []
  for (let nr = 0; nr < list.length; nr++) {
    const { snap, clock } = list[nr]!
    const policy = deletePolicyAt(snap, nowNs)
    if (policy.state !== 'none') {
      out.push({ snapshot: snap, keep: policy.state === 'protected', reasons: [policy.reason] })
      continue
    }
    if (keep.deleteUnchanged && nextOlderTree(list, nr, nowNs) === snap.tree) {
      out.push({ snapshot: snap, keep: false, reasons: ['unchanged'] })
      continue
    }

    const reasons: string[] = []
    for (const prefix of keep.keepIds) if (snap.id?.startsWith(prefix)) reasons.push(`has id ${prefix}`)
    for (const tags of keep.keepTags) if (hasTags(snap, tags)) reasons.push(`has tags [${tags.join(', ')}]`)
    if (within !== undefined && clock.unixNs > within) reasons.push(withinReason)
    for (const b of counts) {
      if (b.left === 0) continue
      const val = b.period(clock, nr)
      if (val !== b.last) {
        b.last = val
        if (b.left > 0) b.left--
        reasons.push(b.reason)
      }
    }
    for (const b of withins) {
      if (clock.unixNs <= b.after) continue
      const val = b.period(clock, nr)
      if (val !== b.last) {
        b.last = val
        reasons.push(b.reason)
      }
    }
    if (reasons.length === 0) {
      out.push({ snapshot: snap, keep: false, reasons })
      continue
    }
    const counters: KeepCounters = {}
    for (const b of counts) counters[b.counter] = b.left
    out.push({ snapshot: snap, keep: true, reasons, counters })
  }
  return out
}
