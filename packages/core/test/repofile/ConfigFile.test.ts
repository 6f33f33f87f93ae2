import { describe, expect, it } from 'vitest'
import { parseConfig, RawJson,   serializeConfig, type Id } from '@rustic-ts/core/internal'
import { thrown } from '../error/thrown.js'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const ID = 'cb601474f9f02b4296211562cc8471a105c757f09e945b80db188c0462ca81e1' as Id

describe('config file', () => {
  it('serialises exactly like restic', () => {
    const text = `{"version":2,"id":"${ID}","chunker_polynomial":"3ae0aeb4bf9451"}`
    const c = parseConfig(enc(text))
    expect(c).toEqual({ version: 2, id: ID, chunkerPolynomial: 0x3ae0aeb4bf9451n })
    expect(dec(serializeConfig(c))).toBe(text)
    expect(dec(serializeConfig({ version: 1, id: ID, chunkerPolynomial: 0x37804f79ed6e77n }))).toBe(
      `{"version":1,"id":"${ID}","chunker_polynomial":"37804f79ed6e77"}`,
    )
  })

  it('reads and writes rustic\'s settings, and keeps unknown fields verbatim after them', () => {
    const text =
      `{"version":2,"id":"${ID}","chunker_polynomial":"3ae0aeb4bf9451","is_hot":true,"append_only":false,"compression":9,` +
      `"datapack_size":67108864,"extra_verify":false,"future":{"b":1, "a":[12345678901234567890]},"zz":"<&>"}`
    const c = parseConfig(enc(text))
    expect(c.isHot).toBe(true)
    expect(c.appendOnly).toBe(false)
    expect(c.compression).toBe(9)
    expect(c.datapackSize).toBe(64 << 20)
    expect(c.extraVerify).toBe(false)
    expect(c.extra).toEqual({ future: new RawJson('{"b":1,"a":[12345678901234567890]}'), zz: new RawJson('"<&>"') })
    expect(dec(serializeConfig(c))).toBe(text.replace(', "a"', ',"a"'))
  })

  it('rejects other versions with UnsupportedVersion', () => {
    const err = thrown(() => parseConfig(enc(`{"version":3,"id":"${ID}","chunker_polynomial":"3ae0aeb4bf9451"}`)))
    expect(err.code).toBe('UnsupportedVersion')
    expect(err.message).toContain('3')
  })

  it('rejects bad JSON and bad shapes with DecodeError', () => {
    for (const text of [
      '',
      '{"version":2',
      '[]',
      `{"version":2,"id":"xyz","chunker_polynomial":"3ae0aeb4bf9451"}`,
      `{"version":2,"id":"${ID}"}`,
      `{"version":2,"id":"${ID}","chunker_polynomial":"0x3a"}`,
      `{"version":"2","id":"${ID}","chunker_polynomial":"3a"}`,
    ]) {
      const err = thrown(() => parseConfig(enc(text)))
      expect(err.code).toBe('DecodeError')
      expect(err.kind).toBe('Repository')
      expect(err.message).toContain('config')
    }
  })
})
