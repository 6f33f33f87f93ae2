import { describe, expect, it } from 'vitest'
import { isRusticError, parseLock, RawJson, serializeLock } from '@rustic-ts/core/internal'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)

describe('lock file', () => {
  it('round-trips restic\'s lock JSON exactly (uid/gid omitted when 0)', () => {
    for (const text of [
      '{"time":"2026-11-23T15:24:37.383716252Z","exclusive":false,"hostname":"vm","username":"root","pid":10228}',
      '{"time":"2026-11-23T17:24:37.3+02:00","exclusive":true,"hostname":"h\\u0026st","username":"me","pid":1,"uid":1000,"gid":100}',
      '{"time":"2026-11-23T15:24:37Z","exclusive":false,"hostname":"vm","username":"root","pid":7,"x":[1,2]}',
    ]) {
      const lock = parseLock(enc(text), 'lock 1a2b3c4d')
      expect(dec(serializeLock(lock))).toBe(text)
    }
    const l = parseLock(enc('{"time":"2026-11-23T15:24:37Z","exclusive":true,"hostname":"a","username":"b","pid":5,"uid":0,"x":null}'), 'l')
    expect(l).toEqual({ time: '2026-11-23T15:24:37Z', exclusive: true, hostname: 'a', username: 'b', pid: 5, extra: { x: new RawJson('null') } })
  })

  it('rejects bad locks with DecodeError', () => {
    for (const text of ['{}', '{"time":"yesterday","exclusive":false}', 'nope']) {
      let err: unknown
      try {
        parseLock(enc(text), 'lock 1a2b3c4d')
      } catch (e) {
        err = e
      }
      expect(isRusticError(err, 'DecodeError')).toBe(true)
    }
  })
})
