import { RusticError } from '../error/RusticError.js'

const UNIT_MS: Record<string, number> = {
  s: 1000, sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  m: 60_000, min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  h: 3_600_000, hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  d: 86_400_000, day: 86_400_000, days: 86_400_000,
  w: 604_800_000, week: 604_800_000, weeks: 604_800_000,
  M: 2_630_016_000, month: 2_630_016_000, months: 2_630_016_000,
  y: 31_557_600_000, year: 31_557_600_000, years: 31_557_600_000,
}

/**
 * Parses a duration like rustic's (humantime): `30d`, `1y 6months`, `2h30m`, `90s`.
 * Months are 30.44 days and years 365.25 days, as in humantime. Returns milliseconds.
 */
export function parseDuration(text: string): number {
  const re = /(\d+(?:\.\d+)?)\s*([a-zA-Z]+)/g
  let total = 0
  let consumed = ''
  for (const m of text.matchAll(re)) {
    const unit = UNIT_MS[m[2]!] ?? UNIT_MS[m[2]!.toLowerCase()]
    if (unit === undefined) throw badDuration(text, `unknown unit "${m[2]}"`)
    total += Number(m[1]) * unit
    consumed += m[0]
  }
  if (consumed === '' || consumed.replace(/\s/g, '') !== text.replace(/\s/g, '')) {
    throw badDuration(text, 'expected numbers with units, e.g. 30d, 1y 6months, 2h30m')
  }
  return total
}

function badDuration(text: string, why: string): RusticError {
  return new RusticError('InvalidInput', `invalid duration "${text}": ${why}`, { code: 'InvalidDuration' })
}
