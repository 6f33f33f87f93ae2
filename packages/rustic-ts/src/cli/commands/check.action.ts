import { availableParallelism } from 'node:os'
import type { Command } from 'commander'
import { CheckOptionsSchema, parseOptions, RusticError, type CheckFinding, type CheckResult } from '@rustic-ts/core'
import { goJson } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { takeEarlyThread } from '../earlyKey/earlyKeyDerivation.js'
import { EarlyPackHashes } from '../EarlyPackHashes.js'
import { filterFrom, type FilterFlags } from '../filterFlags.js'
import { globalOptions } from '../GlobalOptions.js'
import { withProfileOptions } from '../profileOptions.js'
import { humanBytes } from '../progressBar.js'

interface CheckFlags extends FilterFlags {
  readData?: boolean
  readDataSubset?: string
  trustCache?: boolean
}

/** One line per finding: its level, then restic's wording. */
export function findingLine(f: CheckFinding): string {
  return `${f.level}: ${f.message}\n`
}

/** The closing lines: what was checked, then the counts (restic's "no errors were found" when clean). */
function summaryText(r: CheckResult): string {
  const read = r.packsRead > 0 ? `, read ${r.packsRead} packs (${humanBytes(r.bytesRead)})` : ''
  const { errors, warnings, infos } = r.summary
  const counts = errors === 0 ? 'no errors were found' : `${errors} errors`
  const notes = [warnings > 0 ? `${warnings} warnings` : '', infos > 0 ? `${infos} notes` : ''].filter((s) => s !== '')
  return `checked ${r.snapshots} snapshots, ${r.trees} trees, ${r.packs} packs${read}\n${counts}${notes.length > 0 ? ` (${notes.join(', ')})` : ''}\n`
}

/** The `check` command's action (loaded when it runs). */
export async function checkAction(snapshots: string[], opts: CheckFlags, cmd: Command): Promise<void> {
  if (opts.readData && opts.readDataSubset !== undefined) {
    throw new RusticError('InvalidInput', 'check flags --read-data and --read-data-subset cannot be used together', { code: 'InvalidOptions' })
  }
  const g = globalOptions(cmd)
  const options = withProfileOptions(g.profile?.check, {
    readData: opts.readData ?? false,
    readDataSubset: opts.readDataSubset,
    trustCache: opts.trustCache ?? false,
    snapshots,
    filter: filterFrom(opts),
  })
  // options checked before the key is derived
  const parsed = parseOptions(CheckOptionsSchema, options, 'check options')
  // The verify workers start when check needs them, not while the key is derived: scrypt's lanes run on
  // worker threads and take both cores then, so a prestarted worker gained no wall time, and cost CPU and, with
  // restic's keys, ~13 MiB of peak RSS.
  // (check reads every index and snapshot file: without a cache they are read while the key is derived)
  // With --read-data, this thread hashes pack files while it waits for the key's last lanes (one core idle
  // otherwise; with one core it would only slow the key): those packs are not hashed again.
  const hashing = parsed.readData && availableParallelism() > 1 ? new EarlyPackHashes(parsed.workers) : undefined
  const repo = await openRepo(cmd, {}, { readsAllSnapshots: true, readsAllIndexes: true, ...(hashing ? { whileKeyDerived: hashing } : {}) })
  // the thread that derived the key (if the early derivation kept one) runs the verify worker, which then
  // needs no thread's start (check ends it if it has no use for it)
  const early = takeEarlyThread()
  const hashedPacks = await hashing?.hashes()
  let result: CheckResult
  try {
    result = await repo.check({ ...options, ...(early ? { idleThreads: [early] } : {}), ...(hashedPacks?.size ? { hashedPacks } : {}) })
  } finally {
    await repo.close()
  }
  if (g.json) await writeOut(goJson(result) + '\n')
  else await writeOut(result.findings.map(findingLine).join('') + summaryText(result))
  if (result.summary.errors > 0) throw new RusticError('Repository', 'repository contains errors', { code: 'CheckFailed' })
}

