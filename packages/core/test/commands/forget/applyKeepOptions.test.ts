import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import {
  applyKeepOptions,
  hashId,
  isRusticError,
  KeepOptionsSchema,
  parseGoTime,
  type DeleteOption,
  type KeepOptions,
  type SnapshotFile,
} from '@rustic-ts/core/internal'
import { checkKeepOptions } from '../../../src/commands/forget/KeepOptions.js'
import { snap, timeAt, treeId } from '../snapshots/helpers.js'

const NOW = new Date('2024-06-01T00:00:00Z')
const apply = (snaps: SnapshotFile[], keep: KeepOptions, now = NOW) => applyKeepOptions(snaps, KeepOptionsSchema.parse(keep), now)
const kept = (snaps: SnapshotFile[], keep: KeepOptions, now = NOW): string[] =>
  apply(snaps, keep, now)
    .filter((s) => s.keep)
    .map((s) => s.snapshot.time)
const withId = (s: SnapshotFile, i: number): SnapshotFile => ({ ...s, id: hashId(new TextEncoder().encode(`${i}:${s.time}`)) })

describe('applyKeepOptions: examples', () => {
  const days = ['2024-01-01T10:00:00Z', '2024-01-01T12:00:00Z', '2024-01-02T10:00:00Z', '2024-04-02T10:00:00Z', '2024-05-30T09:00:00Z', '2024-05-30T09:00:30Z']
  const snaps = days.map((t, i) => withId(snap(t, { tags: i % 2 ? ['odd'] : [] }), i))

  it('returns the snapshots newest first with restic reasons and counters', () => {
    const r = apply(snaps, { keepDaily: 2, keepTags: ['odd'] })
    expect(r.map((s) => s.snapshot.time)).toEqual([...days].reverse())
    expect(r[0]).toMatchObject({ keep: true, reasons: ['has tags [odd]', 'daily snapshot'], counters: { daily: 1 } })
    expect(r[1]).toMatchObject({ keep: false, reasons: [] })
    expect(r[2]).toMatchObject({ keep: true, reasons: ['has tags [odd]', 'daily snapshot'], counters: { daily: 0 } })
  })

  it('minutely, quarter-yearly, half-yearly buckets and their within forms', () => {
    expect(kept(snaps, { keepMinutely: -1 })).toEqual([days[5], days[3], days[2], days[1], days[0]])
    expect(kept(snaps, { keepQuarterYearly: 5 })).toEqual([days[5], days[2]])
    expect(kept(snaps, { keepHalfYearly: 5 })).toEqual([days[5]])
    const r = apply(snaps, { keepWithinQuarterYearly: '6m' })
    expect(r.filter((s) => s.keep).map((s) => s.reasons)).toEqual([['quarter-yearly within 6m'], ['quarter-yearly within 6m']])
  })

  it('keepIds by prefix, keepNone keeps nothing, an option set to 0 counts as not given', () => {
    const r = apply(snaps, { keepIds: [snaps[2]!.id!.slice(0, 6)] })
    expect(r.filter((s) => s.keep).map((s) => [s.snapshot.time, s.reasons])).toEqual([[days[2], [`has id ${snaps[2]!.id!.slice(0, 6)}`]]])
    expect(kept(snaps, { keepNone: true })).toEqual([])
    for (const keep of [{}, { keepLast: 0 }, { keepWithin: '0d' }, { keepDaily: 0, keepWithinDaily: { days: 0 } }]) {
      let err: unknown
      try {
        checkKeepOptions(KeepOptionsSchema.parse(keep))
      } catch (e) {
        err = e
      }
      expect(isRusticError(err, 'NoKeepOption'), JSON.stringify(keep)).toBe(true)
    }
  })

  it('within counts back from the newest snapshot not in the future', () => {
    const future = [...snaps, withId(snap('2030-01-01T00:00:00Z'), 9)]
    expect(kept(future, { keepWithin: '2d' })).toEqual(['2030-01-01T00:00:00Z', days[5], days[4]])
    expect(apply(future, { keepWithin: '2d' })[1]!.reasons).toEqual(['within 2d'])
  })

  it('delete policies decide first and use up no count; deleteUnchanged keeps the oldest of a run', () => {
    const s = [
      withId(snap('2024-01-01T00:00:00Z', { tree: treeId('a') }), 0),
      withId(snap('2024-01-02T00:00:00Z', { tree: treeId('a') }), 1),
      withId(snap('2024-01-03T00:00:00Z', { tree: treeId('b'), delete: { kind: 'never' } }), 2),
      withId(snap('2024-01-04T00:00:00Z', { tree: treeId('b'), delete: { kind: 'after', time: '2024-05-01T00:00:00Z' } }), 3),
      withId(snap('2024-01-05T00:00:00Z', { tree: treeId('b'), delete: { kind: 'after', time: '2024-07-01T00:00:00Z' } }), 4),
    ]
    const r = apply(s, { keepLast: 1, deleteUnchanged: true })
    expect(r.map((x) => [x.snapshot.time.slice(0, 10), x.keep, x.reasons])).toEqual([
      ['2024-01-05', true, ['delete: after 2024-07-01T00:00:00Z']],
      ['2024-01-04', false, ['delete after 2024-05-01T00:00:00Z has passed']],
      ['2024-01-03', true, ['delete: never']],
      ['2024-01-02', false, ['unchanged']],
      ['2024-01-01', true, ['last snapshot']],
    ])
    // a snapshot removed by its policy does not make its newer twin "unchanged"
    const twins = [
      withId(snap('2024-01-01T00:00:00Z', { tree: treeId('a'), delete: { kind: 'after', time: '2024-02-01T00:00:00Z' } }), 0),
      withId(snap('2024-01-02T00:00:00Z', { tree: treeId('a') }), 1),
    ]
    expect(apply(twins, { keepLast: 1, deleteUnchanged: true }).map((x) => x.keep)).toEqual([true, false])
  })
})

// ---------------------------------------------------------------------------------------------
// Properties, for what restic does not have (quarter/half-yearly, keepNone, deleteUnchanged, delete
// policies) and for the rules every policy keeps to.

const OFFSETS = [0, 330, -300, -240, 120, 60]
const START = Date.parse('2021-01-01T00:00:00Z')
const NOW_MS = Date.parse('2024-01-01T00:00:00Z')

interface Gen {
  minute: number
  offset: number
  tree: number
  tags: string[]
  policy: 'none' | 'never' | 'past' | 'future'
}

const genSnapshot = fc.record({
  minute: fc.integer({ min: 0, max: 3 * 365 * 24 * 60 + 60 * 24 * 30 }),
  offset: fc.constantFrom(...OFFSETS),
  tree: fc.integer({ min: 0, max: 2 }),
  tags: fc.subarray(['a', 'b', 'c']),
  policy: fc.constantFrom<Gen['policy']>('none', 'none', 'none', 'none', 'none', 'never', 'past', 'future'),
})

/** Snapshots at distinct instants (some after NOW: "in the future"). */
function genSnapshots(withPolicies: boolean): fc.Arbitrary<SnapshotFile[]> {
  return fc.uniqueArray(genSnapshot, { minLength: 1, maxLength: 40, selector: (g) => g.minute }).map((gens) =>
    gens.map((g, i) => {
      let del: DeleteOption | undefined
      if (withPolicies && g.policy === 'never') del = { kind: 'never' }
      if (withPolicies && g.policy === 'past') del = { kind: 'after', time: timeAt(NOW_MS - 1000) }
      if (withPolicies && g.policy === 'future') del = { kind: 'after', time: timeAt(NOW_MS + 86_400_000) }
      return withId(snap(timeAt(START + g.minute * 60_000, g.offset), { tree: treeId(String(g.tree)), tags: g.tags, delete: del }), i)
    }),
  )
}

const count = fc.oneof(fc.constant(undefined), fc.constant(-1), fc.integer({ min: 0, max: 6 }))
const within = fc.oneof(fc.constant(undefined), fc.constantFrom('0d', '2h', '3d', '1m', '5m10d', '1y'))
const genKeep: fc.Arbitrary<KeepOptions> = fc.record({
  keepLast: count,
  keepMinutely: count,
  keepHourly: count,
  keepDaily: count,
  keepWeekly: count,
  keepMonthly: count,
  keepQuarterYearly: count,
  keepHalfYearly: count,
  keepYearly: count,
  keepWithin: within,
  keepWithinDaily: within,
  keepWithinQuarterYearly: within,
  keepWithinHalfYearly: within,
  keepTags: fc.subarray([['a'], ['b', 'c']]),
  keepNone: fc.boolean(),
  deleteUnchanged: fc.boolean(),
})

const ns = (s: SnapshotFile): bigint => parseGoTime(s.time).unixNs
const newestFirst = (l: SnapshotFile[]): SnapshotFile[] => [...l].sort((a, b) => (ns(a) > ns(b) ? -1 : 1))
const nowDate = new Date(NOW_MS)
const policyOf = (s: SnapshotFile): 'none' | 'protected' | 'expired' =>
  s.delete === undefined ? 'none' : s.delete.kind === 'never' || parseGoTime(s.delete.time).unixNs >= BigInt(NOW_MS) * 1_000_000n ? 'protected' : 'expired'

/** The newest snapshot of each of the newest `n` periods (-1: all), periods read from the time text itself. */
function newestPerPeriod(l: SnapshotFile[], n: number, period: (time: string) => string): Set<SnapshotFile> {
  const out = new Set<SnapshotFile>()
  let last: string | undefined
  for (const s of newestFirst(l)) {
    if (n === 0) break
    const p = period(s.time)
    if (p !== last) {
      out.add(s)
      last = p
      if (n > 0) n--
    }
  }
  return out
}

describe('applyKeepOptions: properties', () => {
  it('keep-last N keeps the N newest snapshots without a delete policy, plus the protected ones', () => {
    fc.assert(
      fc.property(genSnapshots(true), fc.integer({ min: 1, max: 8 }), (snaps, n) => {
        const r = applyKeepOptions(snaps, KeepOptionsSchema.parse({ keepLast: n }), nowDate)
        const free = newestFirst(snaps.filter((s) => policyOf(s) === 'none'))
        const want = new Set([...free.slice(0, n), ...snaps.filter((s) => policyOf(s) === 'protected')])
        expect(new Set(r.filter((x) => x.keep).map((x) => x.snapshot))).toEqual(want)
      }),
    )
  })

  it('a never snapshot is never removed, and an expired one always is, whatever the keep options', () => {
    fc.assert(
      fc.property(genSnapshots(true), genKeep, (snaps, keep) => {
        for (const x of applyKeepOptions(snaps, KeepOptionsSchema.parse(keep), nowDate)) {
          if (x.snapshot.delete?.kind === 'never') expect(x.keep).toBe(true)
          if (policyOf(x.snapshot) === 'expired') expect(x.keep).toBe(false)
        }
      }),
    )
  })

  it('a group loses every snapshot only with keepNone, or with only tag/id rules, or through expired delete policies', () => {
    // rustic's rule is that forget needs a keep option (or keepNone to remove everything); tag and id rules
    // select by content, so they may leave nothing of a group (restic does the same). A count (not 0) keeps
    // at least the first snapshot it looks at, and the oldest snapshot no passed `after` removes is always
    // looked at (nothing older can make it "unchanged").
    fc.assert(
      fc.property(genSnapshots(true), genKeep, (snaps, keepIn) => {
        const keep = KeepOptionsSchema.parse(keepIn)
        const r = applyKeepOptions(snaps, keep, nowDate)
        const counting = [keep.keepLast, keep.keepMinutely, keep.keepHourly, keep.keepDaily, keep.keepWeekly, keep.keepMonthly, keep.keepQuarterYearly, keep.keepHalfYearly, keep.keepYearly].some(
          (c) => c !== undefined && c !== 0,
        )
        if (counting && snaps.some((s) => policyOf(s) !== 'expired')) expect(r.some((x) => x.keep)).toBe(true)
      }),
    )
    fc.assert(
      fc.property(genSnapshots(false), (snaps) => {
        const r = applyKeepOptions(snaps, KeepOptionsSchema.parse({ keepNone: true }), nowDate)
        expect(r.every((x) => !x.keep)).toBe(true)
      }),
    )
  })

  it('quarter-yearly and half-yearly keep the newest snapshot of each of the newest N quarters / half-years, in the written zone', () => {
    const quarter = (t: string): string => `${t.slice(0, 4)}Q${Math.floor((Number(t.slice(5, 7)) - 1) / 3)}`
    const half = (t: string): string => `${t.slice(0, 4)}H${Math.floor((Number(t.slice(5, 7)) - 1) / 6)}`
    fc.assert(
      fc.property(genSnapshots(false), fc.integer({ min: -1, max: 10 }).filter((n) => n !== 0), (snaps, n) => {
        for (const [key, period] of [['keepQuarterYearly', quarter], ['keepHalfYearly', half]] as const) {
          const r = applyKeepOptions(snaps, KeepOptionsSchema.parse({ [key]: n }), nowDate)
          expect(new Set(r.filter((x) => x.keep).map((x) => x.snapshot))).toEqual(newestPerPeriod(snaps, n, period))
        }
      }),
    )
  })

  it('deleteUnchanged removes exactly the snapshots whose next older one has the same tree, and keeps every tree', () => {
    fc.assert(
      fc.property(genSnapshots(false), (snaps) => {
        const r = applyKeepOptions(snaps, KeepOptionsSchema.parse({ keepLast: -1, deleteUnchanged: true }), nowDate)
        const order = newestFirst(snaps)
        const want = new Set(order.filter((s, i) => order[i + 1]?.tree === s.tree))
        expect(new Set(r.filter((x) => !x.keep).map((x) => x.snapshot))).toEqual(want)
        expect(new Set(r.filter((x) => x.keep).map((x) => x.snapshot.tree))).toEqual(new Set(snaps.map((s) => s.tree)))
      }),
    )
  })
})
