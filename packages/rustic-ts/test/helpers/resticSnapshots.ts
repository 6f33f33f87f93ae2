import { cp, mkdir, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { LocalBackend } from '@rustic-ts/backend-local'
import { seededRandom } from '@rustic-ts/backend-testkit'
import { Repository } from '@rustic-ts/core'
import { PASSWORD, restic } from './restic.js'

/** scrypt parameters cheap enough that hundreds of restic runs spend no time deriving the key. */
export const CHEAP_KDF = { N: 1024, r: 8, p: 1 }

/** One `restic backup` to run: when (local wall time in `tz`), which host, tags and directories. */
export interface PlannedBackup {
  host: string
  tz: string
  /** `YYYY-MM-DD HH:MM:SS`, read by restic in zone `tz`. */
  time: string
  tags: string[]
  dirs: string[]
}

const pad = (n: number): string => String(n).padStart(2, '0')

/**
 * A reproducible list of backups over 2021–2023 for three hosts in three zones (UTC, New York with its
 * daylight-saving changes, Kolkata at +05:30): sparse over the years, denser in the last two months and
 * days, plus year ends (ISO weeks), month ends, New York's clock changes, and one snapshot in 2030 (restic
 * measures `--keep-within` from the newest snapshot not in the future). The newest before that is
 * 2023-12-31 23:30 for every host, so `--keep-within 5m30d` ends at 2023-07-01 23:30 on the calendar, where
 * New York is on summer time: a 23:45 snapshot then is within it only if the daylight-saving change is
 * taken into account as Go does for a time in its local zone. Times are unique per host.
 */
export function plannedBackups(dirA: string, dirB: string, perHost = 100): PlannedBackup[] {
  const rand = seededRandom(20240501)
  const int = (n: number): number => Math.floor(rand() * n)
  const tagSets = [[], ['daily'], ['weekly'], ['manual'], ['daily', 'important'], ['weekly', 'manual']]
  const hosts = [
    { host: 'alpha', tz: 'UTC', dirs: () => (int(4) === 0 ? [dirA, dirB] : [dirA]) },
    { host: 'beta', tz: 'America/New_York', dirs: () => [dirA] },
    { host: 'gamma', tz: 'Asia/Kolkata', dirs: () => [dirB] },
  ]
  const fixed = [
    '2021-12-31 23:30:00', '2022-01-01 00:30:00', '2022-01-02 12:00:00', '2022-01-03 08:00:00',
    '2022-12-31 10:00:00', '2023-01-01 23:59:00', '2023-01-02 00:01:00',
    '2022-03-13 01:30:00', '2022-03-13 03:30:00', '2022-11-06 00:30:00', '2022-11-06 01:30:00', '2022-11-06 02:30:00',
    '2023-01-31 12:00:00', '2023-03-01 12:00:00', '2023-03-31 18:00:00', '2023-06-30 23:00:00', '2023-07-01 01:00:00',
    '2023-12-31 22:00:00', '2023-12-31 23:30:00', '2023-07-01 23:45:00', '2030-01-01 00:00:00',
  ]
  const out: PlannedBackup[] = []
  for (const h of hosts) {
    const times = new Set<string>(fixed)
    const add = (y: number, mo: number, d: number, hh: number, mi: number): void => {
      const t = new Date(Date.UTC(y, mo - 1, d, hh, mi, int(60)))
      times.add(`${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`)
    }
    while (times.size < Math.round(perHost * 0.5)) add(2021 + int(3), 1 + int(12), 1 + int(28), int(24), int(60))
    while (times.size < Math.round(perHost * 0.8)) add(2023, 11 + int(2), 1 + int(30), int(24), int(60))
    while (times.size < perHost) add(2023, 12, 30 + int(2), int(23), int(60))
    for (const time of times) out.push({ host: h.host, tz: h.tz, time, tags: tagSets[int(tagSets.length)]!, dirs: h.dirs() })
  }
  return out
}

/**
 * A local repository (cheap key) whose snapshots were all written by `restic backup --time --host --tag`
 * of two tiny directories. restic 0.14's lock check retries for seconds when a lock it listed is gone
 * before it reads it, so parallel backups into one repository crawl: instead `parallel` copies of the new
 * repository (same config and key) each take a share of the backups one after another, and their files
 * (content-addressed, under the same master key) are then merged into the first. Returns its path.
 */
export async function resticSnapshotRepo(base: string, parallel = 6): Promise<{ repo: string; backups: PlannedBackup[] }> {
  const dirA = join(base, 'data-a')
  const dirB = join(base, 'data-b')
  await mkdir(dirA, { recursive: true })
  await mkdir(dirB, { recursive: true })
  await writeFile(join(dirA, 'a.txt'), 'alpha\n')
  await writeFile(join(dirB, 'b.txt'), 'beta\n')
  const repo = join(base, 'repo')
  const r = await Repository.init({}, { repository: new LocalBackend(repo) }, { password: PASSWORD }, { version: 2, kdf: CHEAP_KDF })
  await r.close()
  const backups = plannedBackups(dirA, dirB)
  const copies = await Promise.all(
    Array.from({ length: parallel }, async (_, i) => {
      const copy = join(base, `repo-part-${i}`)
      await cp(repo, copy, { recursive: true })
      return copy
    }),
  )
  await Promise.all(
    copies.map(async (copy, i) => {
      for (let n = i; n < backups.length; n += parallel) {
        const b = backups[n]!
        const tags = b.tags.length > 0 ? ['--tag', b.tags.join(',')] : []
        await restic(copy, ['backup', '-q', '--force', '--host', b.host, '--time', b.time, ...tags, ...b.dirs], { TZ: b.tz })
      }
    }),
  )
  for (const copy of copies) {
    for (const dir of ['snapshots', 'index', 'data']) await cp(join(copy, dir), join(repo, dir), { recursive: true, force: false })
    await rm(copy, { recursive: true, force: true })
  }
  return { repo, backups }
}
