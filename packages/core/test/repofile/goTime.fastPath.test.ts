/**
 * The cached, number-based formatLocalGoTime against the straightforward bigint implementation it
 * replaced (kept below as the reference): random times over the whole int64 range and beyond, times
 * around every offset change of several zones (DST, local mean time with seconds, skipped days), in
 * this process (switching `TZ` back and forth) and in child processes started with `TZ` set.
 */
import { spawnSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { formatLocalGoTime, localGoTimeFormatter, localOffsetMinutes } from '@rustic-ts/core/internal'
import { seededRandom } from '@rustic-ts/backend-testkit'

/**
 * The implementation before the fast path (rustic-ts goTime.ts as of commit f106168), self-contained
 * so that its source can also run in a child process.
 */
function makeReference(): { format: (ns: bigint) => string; offsetMinutes: (ns: bigint) => number } {
  const NS_PER_S = 1_000_000_000n
  const MAX_DATE_MS = 8.64e15
  function floorDiv(a: bigint, b: bigint): bigint {
    const q = a / b
    return a % b !== 0n && a < 0n !== b < 0n ? q - 1n : q
  }
  function daysFromCivil(y: number, m: number, d: number): number {
    y -= m <= 2 ? 1 : 0
    const era = Math.floor(y / 400)
    const yoe = y - era * 400
    const mp = (m + 9) % 12
    const doy = Math.floor((153 * mp + 2) / 5) + d - 1
    const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy
    return era * 146097 + doe - 719468
  }
  function civilFromDays(z: number): [number, number, number] {
    z += 719468
    const era = Math.floor(z / 146097)
    const doe = z - era * 146097
    const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365)
    const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100))
    const mp = Math.floor((5 * doy + 2) / 153)
    const d = doy - Math.floor((153 * mp + 2) / 5) + 1
    const m = mp < 10 ? mp + 3 : mp - 9
    return [era * 400 + yoe + (m <= 2 ? 1 : 0), m, d]
  }
  function pad(n: number, width: number): string {
    const s = String(Math.abs(n)).padStart(width, '0')
    return n < 0 ? '-' + s : s
  }
  function formatGoTime(ns: bigint, utcOffsetMinutes: number, fixYear: boolean): string {
    const offsetSec = Math.round(utcOffsetMinutes * 60)
    const wall = ns + BigInt(offsetSec) * NS_PER_S
    const secs = floorDiv(wall, NS_PER_S)
    const frac = Number(wall - secs * NS_PER_S)
    const days = Number(floorDiv(secs, 86400n))
    const sod = Number(secs - BigInt(days) * 86400n)
    let [y, m, d] = civilFromDays(days)
    if (fixYear && (y < 0 || y > 9999)) [y, m, d] = civilFromDays(daysFromCivil(y < 0 ? 0 : 9999, m, d))
    let out = `${pad(y, 4)}-${pad(m, 2)}-${pad(d, 2)}T${pad(Math.floor(sod / 3600), 2)}:${pad(Math.floor(sod / 60) % 60, 2)}:${pad(sod % 60, 2)}`
    if (frac !== 0) out += '.' + String(frac).padStart(9, '0').replace(/0+$/, '')
    if (offsetSec === 0) return out + 'Z'
    let zone = Math.trunc(offsetSec / 60)
    const sign = zone < 0 ? '-' : '+'
    zone = Math.abs(zone)
    return `${out}${sign}${pad(Math.floor(zone / 60), 2)}:${pad(zone % 60, 2)}`
  }
  function offsetMinutes(ns: bigint): number {
    let ms = Number(floorDiv(ns, 1_000_000n))
    if (ms > MAX_DATE_MS) ms = MAX_DATE_MS
    if (ms < -MAX_DATE_MS) ms = -MAX_DATE_MS
    const d = new Date(ms)
    const off = -d.getTimezoneOffset()
    if (d.getSeconds() === d.getUTCSeconds()) return off === 0 ? 0 : off
    const wall = new Date(0)
    wall.setUTCFullYear(d.getFullYear(), d.getMonth(), d.getDate())
    wall.setUTCHours(d.getHours(), d.getMinutes(), d.getSeconds(), d.getMilliseconds())
    return Math.round((wall.getTime() - ms) / 1000) / 60
  }
  return { format: (ns) => formatGoTime(ns, offsetMinutes(ns), true), offsetMinutes }
}

const reference = makeReference()

const ZONES = [
  'UTC',
  'Europe/Berlin', // DST; local mean time +00:53:28 before 1893
  'America/St_Johns', // half-hour offsets, LMT -03:30:52, double summer time 1988
  'Africa/Monrovia', // -00:44:30 until 1972
  'Australia/Lord_Howe', // 30-minute DST
  'Pacific/Apia', // skipped 2011-12-30
  'Pacific/Chatham', // +12:45 / +13:45
  'Europe/Dublin', // negative DST in the tz database
  'Asia/Kathmandu', // +05:45 since 1986
  'America/Los_Angeles',
]

const NS = 1_000_000_000n
const INT64_MIN = -(2n ** 63n)
const INT64_MAX = 2n ** 63n - 1n
/** The end of the `Date` range (±8.64e15 ms) in nanoseconds. */
const MAX_DATE_NS = 8_640_000_000_000_000_000_000n


/** Random nanoseconds of a second: often with trailing zeros (ms, µs, whole seconds), as file systems give. */
function randomNsec(r: () => number): bigint {
  const n = BigInt(Math.floor(r() * 1e9))
  switch (Math.floor(r() * 5)) {
    case 0:
      return 0n
    case 1:
      return (n / 1_000_000n) * 1_000_000n
    case 2:
      return (n / 1000n) * 1000n
    default:
      return n
  }
}

/** Seconds (Unix) at which the reference's offset changes between 1800 and 2100 (day scan, then bisection). */
function transitions(): number[] {
  const off = (sec: number): number => reference.offsetMinutes(BigInt(sec) * NS)
  const out: number[] = []
  const start = Math.floor(Date.UTC(1800, 0, 1) / 1000)
  const end = Math.floor(Date.UTC(2100, 0, 1) / 1000)
  let prev = off(start)
  for (let s = start + 86400; s <= end; s += 86400) {
    const cur = off(s)
    if (cur !== prev) {
      let lo = s - 86400
      let hi = s
      while (hi - lo > 1) {
        const m = Math.floor((lo + hi) / 2)
        if (off(m) === prev) lo = m
        else hi = m
      }
      out.push(hi)
      prev = cur
    }
  }
  return out
}

/** Test times for the current TZ: random over ranges, and around each offset change. */
function testTimes(seed: number): bigint[] {
  const r = seededRandom(seed)
  const times: bigint[] = []
  const between = (lo: bigint, hi: bigint): bigint => lo + (BigInt(Math.floor(r() * 2 ** 52)) * (hi - lo)) / 2n ** 52n
  for (let i = 0; i < 3000; i++) times.push(between(INT64_MIN, INT64_MAX)) // 1677-2262
  for (let i = 0; i < 3000; i++) times.push(between(-2208988800n * NS, 4102444800n * NS)) // 1900-2100
  for (let i = 0; i < 1000; i++) times.push(between(-5000000000n * NS, 0n)) // 1811-1970
  for (let i = 0; i < 300; i++) times.push(between(-(10n ** 26n), 10n ** 26n)) // far beyond int64: the bigint path
  for (const s of [-1e11, 1e11]) for (let d = -2; d <= 2; d++) times.push(BigInt(s + d) * NS + randomNsec(r)) // fast path bounds
  for (const v of [0n, -1n, 1n, INT64_MIN, INT64_MAX, -62135596800n * NS, 253402300799n * NS + 999999999n, 253402300800n * NS]) times.push(v)
  // one burst of files written within a few seconds, in order and in random order (cache hits)
  const burst: bigint[] = []
  for (let i = 0; i < 500; i++) burst.push(1700000000n * NS + BigInt(Math.floor(r() * 5e9)))
  times.push(...burst.slice().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), ...burst)
  for (const t of transitions()) {
    for (const d of [-86400, -3601, -3600, -61, -2, -1, 0, 1, 2, 59, 3599, 3600, 86399]) {
      times.push(BigInt(t + d) * NS + randomNsec(r), BigInt(t + d) * NS)
    }
    times.push(BigInt(t) * NS - 1n)
  }
  return times
}

const savedTz = process.env.TZ
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ
  else process.env.TZ = savedTz
})

/** The reference's text, or `ERROR` where it throws (far outside the `Date` range in some zones). */
function referenceOrError(ns: bigint): string {
  try {
    return reference.format(ns)
  } catch {
    return 'ERROR'
  }
}

/** Our texts of `times` equal `want` (via formatLocalGoTime and a batch formatter); a plausible text where the reference failed. */
function expectSame(zone: string, times: readonly bigint[], want: readonly string[]): void {
  const format = localGoTimeFormatter()
  for (let i = 0; i < times.length; i++) {
    const got = formatLocalGoTime(times[i]!)
    if (want[i] === 'ERROR') {
      expect(times[i]! < -MAX_DATE_NS || times[i]! > MAX_DATE_NS, `${zone} ${times[i]}`).toBe(true)
      expect(got).toMatch(/^(0000|9999)-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/)
      continue
    }
    if (got !== want[i] || format(times[i]!) !== want[i]) {
      expect({ zone, ns: times[i]!.toString(), got, batch: format(times[i]!) }).toEqual({ zone, ns: times[i]!.toString(), got: want[i], batch: want[i] })
    }
  }
}

describe('formatLocalGoTime fast path', () => {
  it('equals the reference implementation in many zones, switching TZ in this process', () => {
    let total = 0
    const perZone = new Map<string, { times: bigint[]; want: string[] }>()
    ZONES.forEach((zone, z) => {
      process.env.TZ = zone
      const times = testTimes(z + 1)
      const want = times.map(referenceOrError)
      expectSame(zone, times, want)
      for (const t of [...times.slice(0, 2000), ...times.slice(-2000)]) {
        const want = reference.offsetMinutes(t)
        // where the reference failed (NaN), any finite offset of less than a day
        if (Number.isNaN(want)) expect(Math.abs(localOffsetMinutes(t)), `${zone} ${t}`).toBeLessThan(1440)
        else expect(localOffsetMinutes(t), `${zone} ${t}`).toBe(want)
      }
      perZone.set(zone, { times, want })
      total += times.length
    })
    expect(total).toBeGreaterThan(ZONES.length * 7000)
    // back and forth: the caches follow TZ
    for (const zone of [...ZONES].reverse()) {
      process.env.TZ = zone
      const { times, want } = perZone.get(zone)!
      expectSame(zone, times, want)
    }
  })

  it('finds the offset changes inside a day (DST, LMT ends, skipped days) to the second', () => {
    process.env.TZ = 'Europe/Berlin'
    // 2023-03-26 01:00:00Z: +01:00 -> +02:00; 2023-10-29 01:00:00Z: back
    expect(formatLocalGoTime(1679792399_999999999n)).toBe('2023-03-26T01:59:59.999999999+01:00')
    expect(formatLocalGoTime(1679792400_000000000n)).toBe('2023-03-26T03:00:00+02:00')
    expect(formatLocalGoTime(1698541199_5n * 100_000_000n)).toBe('2023-10-29T02:59:59.5+02:00')
    expect(formatLocalGoTime(1698541200_000000000n)).toBe('2023-10-29T02:00:00+01:00')
    process.env.TZ = 'Pacific/Apia' // Friday 2011-12-30 did not happen
    expect(formatLocalGoTime(1325239199_000000000n)).toBe('2011-12-29T23:59:59-10:00')
    expect(formatLocalGoTime(1325239200_000000000n)).toBe('2011-12-31T00:00:00+14:00')
    process.env.TZ = 'UTC'
    expect(formatLocalGoTime(-1n)).toBe('1969-12-31T23:59:59.999999999Z')
    expect(formatLocalGoTime(10n ** 21n)).toBe('9999-09-27T01:46:40Z') // 33658-09-27, clamped as restic's FixTime
    // before the Date range, in a zone whose first offset is negative local mean time: the reference
    // failed (its local-clock Date overflowed); the offset is the zone's first (-03:30:52 -> -03:30)
    process.env.TZ = 'America/St_Johns'
    expect(() => reference.format(-(10n ** 26n))).toThrow(RangeError)
    expect(formatLocalGoTime(-(10n ** 26n))).toMatch(/^0000-\d\d-\d\dT\d\d:\d\d:\d\d-03:30$/)
    expect(localOffsetMinutes(-(10n ** 26n)) * 60).toBe(-12652)
  })

  it('equals the reference run in a child process started with TZ set', () => {
    for (const [z, zone] of ['Europe/Berlin', 'America/St_Johns', 'Africa/Monrovia'].entries()) {
      process.env.TZ = zone
      const times = testTimes(100 + z)
      const script = `
        const ref = (${makeReference.toString()})()
        const times = require('node:fs').readFileSync(0, 'utf8').trim().split('\\n').map(BigInt)
        const text = (t) => { try { return ref.format(t) } catch { return 'ERROR' } }
        process.stdout.write(times.map(text).join('\\n'))
      `
      const res = spawnSync(process.execPath, ['-e', script], {
        input: times.join('\n'),
        env: { ...process.env, TZ: zone },
        encoding: 'utf8',
        maxBuffer: 64 * 2 ** 20,
      })
      expect(res.stderr).toBe('')
      expect(res.status).toBe(0)
      const want = res.stdout.split('\n')
      expect(want).toHaveLength(times.length)
      expectSame(zone, times, want)
    }
  })
})
