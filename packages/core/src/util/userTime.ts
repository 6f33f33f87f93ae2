import { RusticError } from '../error/RusticError.js'

const LOCAL = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/
const ZONED = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})$/i

/**
 * Parses a time given by a user (an option or a CLI flag): RFC 3339 with a zone (`2024-05-01T12:00:00+02:00`,
 * `…Z`), or a local time `2024-05-01`, `2024-05-01 12:00`, `2024-05-01 12:00:00` (in this process's zone).
 * @param what - names the option in the error, e.g. `--filter-after`.
 * @throws RusticError `InvalidInput`/`InvalidTime`.
 */
export function parseUserTime(text: string, what = 'time'): Date {
  const s = text.trim()
  let d: Date | undefined
  const local = LOCAL.exec(s)
  if (local) {
    const [, y, mo, day, h = '0', mi = '0', sec = '0', frac = '0'] = local
    d = new Date(Number(y), Number(mo) - 1, Number(day), Number(h), Number(mi), Number(sec), Number(frac.padEnd(3, '0').slice(0, 3)))
    if (d.getFullYear() !== Number(y) || d.getMonth() !== Number(mo) - 1 || d.getDate() !== Number(day)) d = undefined
  } else if (ZONED.test(s)) {
    d = new Date(s.replace(' ', 'T').replace(/([+-]\d{2})(\d{2})$/, '$1:$2'))
  }
  if (d === undefined || Number.isNaN(d.getTime())) {
    throw new RusticError(
      'InvalidInput',
      `invalid ${what} "${text}": expected a date like 2024-05-01, 2024-05-01 12:00:00 (local time) or 2024-05-01T12:00:00+02:00`,
      { code: 'InvalidTime' },
    )
  }
  return d
}
