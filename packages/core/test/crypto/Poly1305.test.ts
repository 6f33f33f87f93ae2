import { createCipheriv, randomBytes } from 'node:crypto'
import { afterEach, describe, expect, it } from 'vitest'
import {
  CIPHERTEXT_OVERHEAD,
  isRusticError,
  Key,
  noblePoly1305,
  poly1305Provider,
  setPoly1305Provider,
  sodiumPoly1305,
  type Poly1305Provider,
} from '@rustic-ts/core/internal'

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'))

/** Poly1305-AES vectors of http://cr.yp.to/mac/poly1305-20050329.pdf (also used by restic's crypto tests). */
const POLY1305_AES = [
  {
    msg: 'f3f6',
    r: '851fc40c3467ac0be05cc20404f3f700',
    k: 'ec074c835580741701425b623235add6',
    nonce: 'fb447350c4e868c52ac3275cf9d4327e',
    mac: 'f4c633c3044fc145f84f335cb81953de',
  },
  {
    msg: '',
    r: 'a0f3080000f46400d0c7e9076c834403',
    k: '75deaa25c09f208e1dc4ce6b5cad3fbf',
    nonce: '61ee09218d29b0aaed7e154a2c5509cc',
    mac: 'dd3fab2251f11ac759f0887129cc2ee7',
  },
  {
    msg: '663cea190ffb83d89593f3f476b6bc24d7e679107ea26adb8caf6652d0656136',
    r: '48443d0bb0d21109c89a100b5ce2c208',
    k: '6acb5f61a7176dd320c5c1eb2edcdc74',
    nonce: 'ae212a55399729595dea458bc621ff0e',
    mac: '0ee1c16bb73f0f4fd19881753c01cdbe',
  },
  {
    msg: 'ab0812724a7f1e342742cbed374d94d136c6b8795d45b3819830f2c04491faf0990c62e48b8018b2c3e4a0fa3134cb67fa83e158c994d961c4cb21095c1bf9',
    r: '12976a08c4426d0ce8a82407c4f48207',
    k: 'e1a5668a4d5b66a5f68cc5424ed5982d',
    nonce: '9ae831e743978d3a23527c7128149e3a',
    mac: '5154ad0d2cb26e01274fc51148491f1b',
  },
]

function polyKey(r: Uint8Array, k: Uint8Array, nonce: Uint8Array): Uint8Array {
  const ecb = createCipheriv('aes-128-ecb', k, null)
  ecb.setAutoPadding(false)
  return new Uint8Array(Buffer.concat([r, ecb.update(nonce)]))
}

const providers: Poly1305Provider[] = [noblePoly1305]
const sodium = sodiumPoly1305()
if (sodium !== undefined) providers.push(sodium)

describe('Poly1305 providers', () => {
  const initial = poly1305Provider()
  afterEach(() => setPoly1305Provider(initial))

  it('sodium-native loads on this machine and is the default', () => {
    expect(sodium?.name).toBe('sodium-native')
    expect(initial.name).toBe('sodium-native')
  })

  it.each(providers.map((p) => [p.name, p] as const))('%s gives the Poly1305-AES paper tags', (_name, p) => {
    for (const v of POLY1305_AES) {
      const tag = p.mac(hex(v.msg), polyKey(hex(v.r), hex(v.k), hex(v.nonce)))
      expect(Buffer.from(tag).toString('hex')).toBe(v.mac)
    }
  })

  it('RFC 8439 §2.5.2 vector', () => {
    const key = hex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b')
    const msg = new TextEncoder().encode('Cryptographic Forum Research Group')
    for (const p of providers) expect(Buffer.from(p.mac(msg, key)).toString('hex')).toBe('a8061dc1305136c6c22b8baf0c0127a9')
  })

  it('both providers agree on random messages and keys', () => {
    for (const size of [0, 1, 15, 16, 17, 1000, 65536 + 3, 1 << 20]) {
      const msg = randomBytes(size)
      const key = randomBytes(32)
      const tags = providers.map((p) => Buffer.from(p.mac(msg, key)).toString('hex'))
      expect(new Set(tags).size).toBe(1)
    }
  })

  it('incremental computation equals the one-shot tag, for both providers', () => {
    const msg = randomBytes(3 * 65536 + 5)
    const key = randomBytes(32)
    for (const p of providers) {
      const st = p.create(key)
      for (const [a, b] of [[0, 1], [1, 16], [16, 1000], [1000, 65536 * 2 + 7], [65536 * 2 + 7, msg.length]] as const) st.update(msg.subarray(a, b))
      expect(Buffer.from(st.digest()).equals(Buffer.from(p.mac(msg, key)))).toBe(true)
    }
  })

  it.each(providers.map((p) => [p.name, p] as const))('Key works end to end with %s', (_name, p) => {
    setPoly1305Provider(p)
    for (const v of POLY1305_AES) {
      // A sealed message whose MAC is the paper's: decrypt must accept it (it checks the MAC first).
      const key = Key.fromParts(new Uint8Array(32), hex(v.k), hex(v.r))
      const sealed = new Uint8Array([...hex(v.nonce), ...hex(v.msg), ...hex(v.mac)])
      expect(key.decrypt(sealed, 'vector').length).toBe(sealed.length - CIPHERTEXT_OVERHEAD)
      sealed[sealed.length - 1]! ^= 1
      let err: unknown
      try {
        key.decrypt(sealed, 'vector')
      } catch (e) {
        err = e
      }
      expect(isRusticError(err, 'MacMismatch')).toBe(true)
    }
    // Large data takes the incremental path when sealing.
    const key = Key.random()
    const big = randomBytes((1 << 20) * 2 + 3)
    expect(Buffer.from(key.decrypt(key.encrypt(big), 'big')).equals(big)).toBe(true)
  })
})
