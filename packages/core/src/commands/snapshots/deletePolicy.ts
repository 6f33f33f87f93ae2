import { RusticError } from '../../error/RusticError.js'
import type { DeleteOption, SnapshotFile } from '../../repofile/index.js'
import { formatLocalGoTime, parseGoTime } from '../../repofile/goTime.js'
import { parseDuration } from '../../util/duration.js'
import { parseUserTime } from '../../util/userTime.js'

/**
 * What a snapshot's delete policy (rustic's `delete` field) says at a time: `protected` (`never`, or
 * `after` a time not yet passed: keep it), `expired` (`after` a time that has passed: remove it), or
 * `none` (no policy). `reason` describes it (`delete: never`, `delete: after <time>`).
 */
export function deletePolicyAt(snap: SnapshotFile, nowNs: bigint): { state: 'none' | 'protected' | 'expired'; reason: string } {
  const d = snap.delete
  if (d === undefined) return { state: 'none', reason: '' }
  if (d.kind === 'never') return { state: 'protected', reason: 'delete: never' }
  return parseGoTime(d.time).unixNs >= nowNs
    ? { state: 'protected', reason: `delete: after ${d.time}` }
    : { state: 'expired', reason: `delete after ${d.time} has passed` }
}

/** A delete policy to set: `never`, `notSet` (remove the policy), a `Date`, or a string (a time, or a duration from now such as `30d`). */
export type DeletePolicySpec = 'never' | 'notSet' | Date | string

/**
 * The {@link DeleteOption} of a spec (`undefined` for `notSet`): `never`; a `Date`; a string time
 * (`2025-01-01`, `2025-01-01 12:00`, RFC 3339); or a duration after `now` (`30d`, `1y`, `12h`, as backup's
 * `deleteAfter`). Times are written in this machine's zone.
 * @throws RusticError `InvalidInput` for anything else.
 */
export function deleteOptionFromSpec(spec: DeletePolicySpec, now: Date): DeleteOption | undefined {
  if (spec === 'never') return { kind: 'never' }
  if (spec === 'notSet') return undefined
  let when: Date
  if (spec instanceof Date) when = spec
  else if (/^\d{4}-\d{2}-\d{2}/.test(spec.trim())) when = parseUserTime(spec, 'delete time')
  else {
    try {
      when = new Date(now.getTime() + parseDuration(spec))
    } catch (e) {
      throw new RusticError(
        'InvalidInput',
        `invalid delete policy "${spec}": expected never, notSet, a duration such as 30d, or a date such as 2025-01-01`,
        { code: 'InvalidOptions', cause: e },
      )
    }
  }
  if (Number.isNaN(when.getTime())) throw new RusticError('InvalidInput', 'invalid delete policy: the date is invalid', { code: 'InvalidOptions' })
  return { kind: 'after', time: formatLocalGoTime(BigInt(when.getTime()) * 1_000_000n) }
}

/** True if two delete policies are the same (`undefined` = none). */
export function sameDeleteOption(a: DeleteOption | undefined, b: DeleteOption | undefined): boolean {
  if (a === undefined || b === undefined) return a === b
  if (a.kind === 'never' || b.kind === 'never') return a.kind === b.kind
  return parseGoTime(a.time).unixNs === parseGoTime(b.time).unixNs
}
