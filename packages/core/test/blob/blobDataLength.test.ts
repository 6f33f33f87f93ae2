import { describe, expect, it } from 'vitest'
import { blobDataLength } from '../../src/blob/blobDataLength.js'
import { CIPHERTEXT_OVERHEAD } from '../../src/crypto/Key.js'

describe('blobDataLength', () => {
  it('is the uncompressed length of a compressed blob, else the stored length less the encryption overhead', () => {
    expect(blobDataLength({ length: 1000, uncompressedLength: 4000 })).toBe(4000)
    expect(blobDataLength({ length: 1000 })).toBe(1000 - CIPHERTEXT_OVERHEAD)
    expect(blobDataLength({ length: CIPHERTEXT_OVERHEAD })).toBe(0)
  })
})
