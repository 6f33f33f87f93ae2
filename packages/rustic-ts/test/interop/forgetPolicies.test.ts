import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { run, rustic, tempDir, PASSWORD } from '../helpers/restic.js'
import { resticSnapshotRepo } from '../helpers/resticSnapshots.js'

/** restic's `forget --json` groups, as far as these tests compare them. */
interface JsonGroup {
  tags: string[] | null
  host: string
  paths: string[] | null
  keep: Array<{ id: string }> | null
  remove: Array<{ id: string }> | null
  reasons: Array<{ matches: string[]; counters: Record<string, number> }> | null
}

/**
 * What a forget run decided: the groups, the removed ids, and for each kept id its reasons and counters
 * (not the snapshot copies: restic sorts a snapshot's tags in place when it groups by tags).
 */
function decisions(groups: JsonGroup[]): { groups: string[]; removed: string[]; kept: Map<string, unknown> } {
  const kept = new Map<string, unknown>()
  for (const g of groups) {
    (g.keep ?? []).forEach((s, i) => kept.set(s.id, { matches: g.reasons![i]!.matches, counters: g.reasons![i]!.counters }))
  }
  return {
    groups: groups.map((g) => JSON.stringify([g.host, g.paths, g.tags])).sort(),
    removed: groups.flatMap((g) => (g.remove ?? []).map((s) => s.id)).sort(),
    kept,
  }
}

// The forget runs use New York time: restic (Go) then treats host beta's snapshots (written at New York's
// offsets) as local times, whose calendar arithmetic crosses daylight-saving changes, alpha's (`Z`) as UTC
// and gamma's (+05:30) as a fixed zone.
const ENV = { TZ: 'America/New_York' }

let tmp: Awaited<ReturnType<typeof tempDir>>
let repo: string

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-forget-')
  ;({ repo } = await resticSnapshotRepo(tmp.path))
}, 600_000)
afterAll(async () => tmp?.remove())

async function forgetBoth(policy: string[]): Promise<[JsonGroup[], JsonGroup[]]> {
  const [theirs, ours] = await Promise.all([
    run('restic', ['-r', repo, '--no-cache', '--no-lock', 'forget', '--dry-run', '--json', ...policy], { RESTIC_PASSWORD: PASSWORD, ...ENV }),
    rustic(['-r', repo, '--no-cache', 'forget', '--dry-run', '--json', ...policy], ENV),
  ])
  if (theirs.code !== 0) throw new Error(`restic forget ${policy.join(' ')}: ${theirs.stderr}`)
  if (ours.code !== 0) throw new Error(`rustic-ts forget ${policy.join(' ')}: ${ours.stderr}`)
  return [JSON.parse(theirs.stdout.toString()) as JsonGroup[], JSON.parse(ours.stdout.toString()) as JsonGroup[]]
}

const POLICIES: string[][] = [
  ['--keep-last', '7'],
  ['-H', '30'],
  ['-d', '14'],
  ['-w', '10'],
  ['-m', '12'],
  ['-y', '5'],
  ['--keep-within', '3m15d'],
  ['--keep-within', '5m30d'],
  ['--keep-within', '1y10m20d', '--host', 'beta'],
  ['--keep-within-hourly', '2d', '--keep-within-daily', '20d'],
  ['--keep-within-weekly', '3m', '--keep-within-monthly', '1y', '--keep-within-yearly', '5y'],
  ['--keep-tag', 'important', '--keep-tag', 'manual,weekly'],
  ['-l', '3', '-d', '7', '-w', '4', '-m', '6', '-y', '2'],
  ['-d', '5', '--keep-within', '10d', '--keep-tag', 'important'],
  ['-H', '10', '-w', '3', '--keep-within-daily', '1m', '--tag', 'daily'],
]

describe('forget --dry-run --json removes what restic 0.14 removes, on 300 snapshots restic wrote (3 hosts, 3 zones, 3 years)', () => {
  for (const policy of POLICIES) {
    it(policy.join(' '), async () => {
      for (const grouping of [[], ['--group-by', 'host']]) {
        const [theirs, ours] = await forgetBoth([...policy, ...grouping])
        const t = decisions(theirs)
        const o = decisions(ours)
        expect(t.removed.length, 'the policy removes something').toBeGreaterThan(0)
        expect(o.groups, `groups with ${grouping.join(' ') || 'default grouping'}`).toEqual(t.groups)
        expect(o.removed, `removed with ${grouping.join(' ') || 'default grouping'}`).toEqual(t.removed)
        expect(o.kept, `reasons with ${grouping.join(' ') || 'default grouping'}`).toEqual(t.kept)
      }
    })
  }

  it('-l 2 -m 3 grouped by tags, by host,paths,tags, and not grouped', async () => {
    for (const grouping of ['tags', 'host,paths,tags', '']) {
      const [theirs, ours] = await forgetBoth(['-l', '2', '-m', '3', '--group-by', grouping])
      const t = decisions(theirs)
      const o = decisions(ours)
      expect(o.groups, grouping).toEqual(t.groups)
      expect(o.removed, grouping).toEqual(t.removed)
      expect(o.kept, grouping).toEqual(t.kept)
    }
  })
})
