import { describe, expect, it } from 'vitest'
import { kdfParamsValid, scryptBytes } from '../../src/crypto/scryptBytes.js'

describe('scryptBytes', () => {
  it('gives the 64 bytes of RFC 7914 test vector 2 (password, NaCl, N=1024, r=8, p=16)', async () => {
    const out = await scryptBytes(new TextEncoder().encode('password'), new TextEncoder().encode('NaCl'), { N: 1024, r: 8, p: 16 })
    expect(Buffer.from(out).toString('hex')).toBe(
      'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162' +
        '2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640',
    )
  })

  it('accepts restic-calibrated parameters and refuses unusable or oversized ones', () => {
    expect(kdfParamsValid({ N: 32768, r: 8, p: 3 })).toBe(true)
    for (const bad of [
      { N: 1, r: 8, p: 1 },
      { N: 1000, r: 8, p: 1 },
      { N: 32768, r: 0, p: 1 },
      { N: 32768, r: 8, p: 0 },
      { N: 2 ** 21, r: 8, p: 1 }, // 128·N·r = 2 GiB
      { N: 2, r: 2 ** 10, p: 2 ** 11 }, // r·p > 2^20
      { N: 1.5, r: 8, p: 1 },
    ]) {
      expect(kdfParamsValid(bad), JSON.stringify(bad)).toBe(false)
    }
  })
})
