import { afterEach, describe, expect, it } from 'vitest'
import { formatGoTime, formatLocalGoTime, goTimeToDate, goTimeUnixParts, isGoTime, localOffsetMinutes, parseGoTime, RusticError } from '@rustic-ts/core/internal'

/** [zone, unix ns, Go's offset in seconds, go1.19.8 time.Unix(0, ns).In(zone).Format(time.RFC3339Nano)] */
const GO_VECTORS: Array<[string, bigint, number, string]> = [
  ['UTC', 0n, 0, '1970-01-01T00:00:00Z'],
  ['UTC', 1n, 0, '1970-01-01T00:00:00.000000001Z'],
  ['UTC', 1500000000n, 0, '1970-01-01T00:00:01.5Z'],
  ['UTC', 1669216793317077288n, 0, '2022-11-23T15:19:53.317077288Z'],
  ['UTC', 1669216793300000000n, 0, '2022-11-23T15:19:53.3Z'],
  ['UTC', 1669216793000000000n, 0, '2022-11-23T15:19:53Z'],
  ['UTC', -1n, 0, '1969-12-31T23:59:59.999999999Z'],
  ['UTC', -1000000001n, 0, '1969-12-31T23:59:58.999999999Z'],
  ['UTC', 1688000000123456789n, 0, '2023-06-29T00:53:20.123456789Z'],
  ['UTC', -5000000000000000000n, 0, '1811-07-23T15:06:40Z'],
  ['UTC', 253402300799999999n, 0, '1978-01-11T21:31:40.799999999Z'],
  ['Europe/Berlin', 0n, 3600, '1970-01-01T01:00:00+01:00'],
  ['Europe/Berlin', 1n, 3600, '1970-01-01T01:00:00.000000001+01:00'],
  ['Europe/Berlin', 1500000000n, 3600, '1970-01-01T01:00:01.5+01:00'],
  ['Europe/Berlin', 1669216793317077288n, 3600, '2022-11-23T16:19:53.317077288+01:00'],
  ['Europe/Berlin', 1669216793300000000n, 3600, '2022-11-23T16:19:53.3+01:00'],
  ['Europe/Berlin', 1669216793000000000n, 3600, '2022-11-23T16:19:53+01:00'],
  ['Europe/Berlin', -1n, 3600, '1970-01-01T00:59:59.999999999+01:00'],
  ['Europe/Berlin', -1000000001n, 3600, '1970-01-01T00:59:58.999999999+01:00'],
  ['Europe/Berlin', 1688000000123456789n, 7200, '2023-06-29T02:53:20.123456789+02:00'],
  ['Europe/Berlin', -5000000000000000000n, 3208, '1811-07-23T16:00:08+00:53'],
  ['Europe/Berlin', 253402300799999999n, 3600, '1978-01-11T22:31:40.799999999+01:00'],
  ['America/St_Johns', 0n, -12600, '1969-12-31T20:30:00-03:30'],
  ['America/St_Johns', 1n, -12600, '1969-12-31T20:30:00.000000001-03:30'],
  ['America/St_Johns', 1500000000n, -12600, '1969-12-31T20:30:01.5-03:30'],
  ['America/St_Johns', 1669216793317077288n, -12600, '2022-11-23T11:49:53.317077288-03:30'],
  ['America/St_Johns', 1669216793300000000n, -12600, '2022-11-23T11:49:53.3-03:30'],
  ['America/St_Johns', 1669216793000000000n, -12600, '2022-11-23T11:49:53-03:30'],
  ['America/St_Johns', -1n, -12600, '1969-12-31T20:29:59.999999999-03:30'],
  ['America/St_Johns', -1000000001n, -12600, '1969-12-31T20:29:58.999999999-03:30'],
  ['America/St_Johns', 1688000000123456789n, -9000, '2023-06-28T22:23:20.123456789-02:30'],
  ['America/St_Johns', -5000000000000000000n, -12652, '1811-07-23T11:35:48-03:30'],
  ['America/St_Johns', 253402300799999999n, -12600, '1978-01-11T18:01:40.799999999-03:30'],
  ['Asia/Kolkata', 0n, 19800, '1970-01-01T05:30:00+05:30'],
  ['Asia/Kolkata', 1n, 19800, '1970-01-01T05:30:00.000000001+05:30'],
  ['Asia/Kolkata', 1500000000n, 19800, '1970-01-01T05:30:01.5+05:30'],
  ['Asia/Kolkata', 1669216793317077288n, 19800, '2022-11-23T20:49:53.317077288+05:30'],
  ['Asia/Kolkata', 1669216793300000000n, 19800, '2022-11-23T20:49:53.3+05:30'],
  ['Asia/Kolkata', 1669216793000000000n, 19800, '2022-11-23T20:49:53+05:30'],
  ['Asia/Kolkata', -1n, 19800, '1970-01-01T05:29:59.999999999+05:30'],
  ['Asia/Kolkata', -1000000001n, 19800, '1970-01-01T05:29:58.999999999+05:30'],
  ['Asia/Kolkata', 1688000000123456789n, 19800, '2023-06-29T06:23:20.123456789+05:30'],
  ['Asia/Kolkata', -5000000000000000000n, 21208, '1811-07-23T21:00:08+05:53'],
  ['Asia/Kolkata', 253402300799999999n, 19800, '1978-01-12T03:01:40.799999999+05:30'],
  ['Europe/Amsterdam', 0n, 3600, '1970-01-01T01:00:00+01:00'],
  ['Europe/Amsterdam', 1n, 3600, '1970-01-01T01:00:00.000000001+01:00'],
  ['Europe/Amsterdam', 1500000000n, 3600, '1970-01-01T01:00:01.5+01:00'],
  ['Europe/Amsterdam', 1669216793317077288n, 3600, '2022-11-23T16:19:53.317077288+01:00'],
  ['Europe/Amsterdam', 1669216793300000000n, 3600, '2022-11-23T16:19:53.3+01:00'],
  ['Europe/Amsterdam', 1669216793000000000n, 3600, '2022-11-23T16:19:53+01:00'],
  ['Europe/Amsterdam', -1n, 3600, '1970-01-01T00:59:59.999999999+01:00'],
  ['Europe/Amsterdam', -1000000001n, 3600, '1970-01-01T00:59:58.999999999+01:00'],
  ['Europe/Amsterdam', 1688000000123456789n, 7200, '2023-06-29T02:53:20.123456789+02:00'],
  ['Europe/Amsterdam', -5000000000000000000n, 1172, '1811-07-23T15:26:12+00:19'],
  ['Europe/Amsterdam', 253402300799999999n, 3600, '1978-01-11T22:31:40.799999999+01:00'],
  ['America/Los_Angeles', 0n, -28800, '1969-12-31T16:00:00-08:00'],
  ['America/Los_Angeles', 1n, -28800, '1969-12-31T16:00:00.000000001-08:00'],
  ['America/Los_Angeles', 1500000000n, -28800, '1969-12-31T16:00:01.5-08:00'],
  ['America/Los_Angeles', 1669216793317077288n, -28800, '2022-11-23T07:19:53.317077288-08:00'],
  ['America/Los_Angeles', 1669216793300000000n, -28800, '2022-11-23T07:19:53.3-08:00'],
  ['America/Los_Angeles', 1669216793000000000n, -28800, '2022-11-23T07:19:53-08:00'],
  ['America/Los_Angeles', -1n, -28800, '1969-12-31T15:59:59.999999999-08:00'],
  ['America/Los_Angeles', -1000000001n, -28800, '1969-12-31T15:59:58.999999999-08:00'],
  ['America/Los_Angeles', 1688000000123456789n, -25200, '2023-06-28T17:53:20.123456789-07:00'],
  ['America/Los_Angeles', -5000000000000000000n, -28378, '1811-07-23T07:13:42-07:52'],
  ['America/Los_Angeles', 253402300799999999n, -28800, '1978-01-11T13:31:40.799999999-08:00'],
]

const savedTz = process.env.TZ
afterEach(() => {
  if (savedTz === undefined) delete process.env.TZ
  else process.env.TZ = savedTz
})

describe('formatGoTime', () => {
  it('formats like Go time.Format(RFC3339Nano) for a given offset', () => {
    for (const [zone, ns, offSec, want] of GO_VECTORS) {
      expect(formatGoTime(ns, offSec / 60), `${zone} ${ns}`).toBe(want)
    }
  })

  it('cuts trailing fraction zeros and writes Z for UTC', () => {
    expect(formatGoTime(1669216793_000000000n)).toBe('2022-11-23T15:19:53Z')
    expect(formatGoTime(1669216793_500000000n)).toBe('2022-11-23T15:19:53.5Z')
    expect(formatGoTime(1669216793_000000100n)).toBe('2022-11-23T15:19:53.0000001Z')
    expect(formatGoTime(1669216793_120000000n, -90)).toBe('2022-11-23T13:49:53.12-01:30')
    // an offset below one minute: Go prints it truncated, with a + sign
    expect(formatGoTime(0n, -0.5)).toBe('1969-12-31T23:59:30+00:00')
  })

  it('clamps years to 0-9999 like restic FixTime when asked', () => {
    const y10000 = parseGoTime('9999-12-31T23:59:59Z').unixNs + 2n * 86400n * 1_000_000_000n
    expect(formatGoTime(y10000)).toBe('10000-01-02T23:59:59Z')
    expect(formatGoTime(y10000, 0, { fixYear: true })).toBe('9999-01-02T23:59:59Z')
    const neg = parseGoTime('0000-03-01T00:00:00Z').unixNs - 400n * 86400n * 1_000_000_000n
    expect(formatGoTime(neg)).toBe('-0001-01-26T00:00:00Z')
    expect(formatGoTime(neg, 0, { fixYear: true })).toBe('0000-01-26T00:00:00Z')
  })
})

describe('parseGoTime', () => {
  it('inverts formatGoTime', () => {
    for (const [zone, ns, offSec, s] of GO_VECTORS) {
      if (offSec % 60 !== 0) continue // local mean time: Go prints a rounded offset
      expect(parseGoTime(s), `${zone} ${s}`).toEqual({ unixNs: ns, offsetMinutes: offSec / 60 })
    }
  })

  it('accepts 0-9 fraction digits (more are cut), Z or ±hh:mm', () => {
    expect(parseGoTime('2022-11-23T15:19:53Z').unixNs).toBe(1669216793_000000000n)
    expect(parseGoTime('2022-11-23T15:19:53.1Z').unixNs).toBe(1669216793_100000000n)
    expect(parseGoTime('2022-11-23T15:19:53.123456789123Z').unixNs).toBe(1669216793_123456789n)
    expect(parseGoTime('2022-11-23T16:19:53.5+01:00')).toEqual({ unixNs: 1669216793_500000000n, offsetMinutes: 60 })
    expect(parseGoTime('0001-01-01T00:00:00Z').unixNs).toBe(-62135596800_000000000n)
    expect(goTimeToDate('2022-11-23T16:19:53.5129+01:00').toISOString()).toBe('2022-11-23T15:19:53.512Z')
    expect(goTimeToDate('1969-12-31T23:59:59.9999Z').getTime()).toBe(-1)
  })

  it('reads the usual form without its regex as the regex reads it', () => {
    // a one-digit hour is only read by the regex: the same time both ways must agree
    expect(parseGoTime('2022-11-23T15:19:53,25-02:30')).toEqual({ unixNs: 1669225793_250000000n, offsetMinutes: -150 })
    let x = 0x2545f491
    const rand = (): number => ((x = Math.imul(x ^ (x >>> 15), 0x2c1b3c6d) ^ (x + 0x6d2b79f5)) >>> 0) / 2 ** 32
    for (let i = 0; i < 500; i++) {
      const ns = BigInt(Math.floor((rand() - 0.5) * 2 ** 52)) * 997n + BigInt(Math.floor(rand() * 1e9))
      const offset = rand() < 0.3 ? 0 : Math.floor((rand() - 0.5) * 1440)
      const s = formatGoTime(ns, offset)
      const usual = parseGoTime(s)
      expect(usual, s).toEqual({ unixNs: ns, offsetMinutes: offset })
      if (s[11] === '0') expect(parseGoTime(s.slice(0, 11) + s.slice(12)), s).toEqual(usual)
    }
  })

  it('rejects what Go rejects', () => {
    for (const bad of [
      '',
      '2022-11-23',
      '2022-11-23 15:19:53Z',
      '2022-11-23T15:19:53',
      '2022-11-23T15:19:53.Z',
      '2022-13-01T00:00:00Z',
      '2022-02-29T00:00:00Z',
      '2022-01-01T24:00:00Z',
      '2022-01-01T00:00:60Z',
      '2022-01-01T00:00:00z',
      '2022-01-01T00:00:00+0100',
    ]) {
      expect(isGoTime(bad), bad).toBe(false)
      expect(() => parseGoTime(bad), bad).toThrow(RusticError)
    }
    expect(isGoTime('2024-02-29T00:00:00Z')).toBe(true)
  })
})

describe('local time zone', () => {
  it('formats in the TZ of the process, like restic (Go time.Local)', () => {
    for (const [zone, ns, offSec, want] of GO_VECTORS) {
      // pre-1970 data differs between tz databases: Node's ICU merged Amsterdam into Brussels (LMT
      // +00:17:30), Debian's zoneinfo that Go reads keeps +00:19:32
      if (zone === 'Europe/Amsterdam' && offSec % 60 !== 0) continue
      process.env.TZ = zone
      expect(localOffsetMinutes(ns) * 60, `${zone} ${ns}`).toBe(offSec)
      expect(formatLocalGoTime(ns), `${zone} ${ns}`).toBe(want)
    }
  })
})

describe('goTimeUnixParts', () => {
  it('gives the instant of parseGoTime as seconds and nanoseconds, and false where parseGoTime throws', () => {
    const times = [
      ...GO_VECTORS.map((v) => v[3]),
      '2022-08-01T12:34:56.123456789+02:00',
      '2022-08-01T12:34:56,5-07:30',
      '2022-08-01T12:34:56.1234567891234Z',
      '0001-01-01T00:00:00Z',
      '9999-12-31T23:59:59.999999999-23:59',
      '2024-02-29T00:00:00Z',
      '2022-08-01T1:34:56Z',
    ]
    const out = new Float64Array(2)
    for (const t of times) {
      expect(goTimeUnixParts(t, out), t).toBe(true)
      expect(out[1]! >= 0 && out[1]! < 1e9, t).toBe(true)
      expect(BigInt(out[0]!) * 1_000_000_000n + BigInt(out[1]!), t).toBe(parseGoTime(t).unixNs)
    }
    for (const t of ['2023-02-29T00:00:00Z', '2022-08-01T12:34:56.Z', '2022-08-01T24:00:00Z', 'x', '']) {
      expect(() => parseGoTime(t), t).toThrow(RusticError)
      expect(goTimeUnixParts(t, out), t).toBe(false)
    }
  })
})
