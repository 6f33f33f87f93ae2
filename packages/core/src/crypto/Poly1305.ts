import { createRequire } from 'node:module'

/**
 * A Poly1305 implementation. Node has no standalone Poly1305, so rustic-ts uses libsodium
 * (`sodium-native`) where it loads and the pure-JS `@noble/ciphers` one otherwise; both give
 * identical tags.
 */
export interface Poly1305Provider {
  /** A short name, e.g. `sodium-native` or `noble`. */
  readonly name: string
  /** The 16-byte Poly1305 tag of `message` under the 32-byte one-time `key` (`r || s`). */
  mac(message: Uint8Array, key: Uint8Array): Uint8Array
  /** Incremental form of {@link Poly1305Provider.mac}, for large messages fed in pieces. */
  create(key: Uint8Array): Poly1305State
}

/** An incremental Poly1305 computation. */
export interface Poly1305State {
  /** Adds message bytes. */
  update(data: Uint8Array): void
  /** The 16-byte tag of everything added. */
  digest(): Uint8Array
}

type NobleModule = typeof import('@noble/ciphers/_poly1305.js')
let nobleModule: NobleModule | undefined

/** `@noble/ciphers`' Poly1305, loaded on first use: it is only a fallback, so start-up does not pay for it. */
function noble(): NobleModule {
  nobleModule ??= createRequire(import.meta.url)('@noble/ciphers/_poly1305.js') as NobleModule
  return nobleModule
}

/** The pure-JS Poly1305 of `@noble/ciphers` (~150 MiB/s). */
export const noblePoly1305: Poly1305Provider = {
  name: 'noble',
  mac: (message, key) => noble().poly1305(message, key),
  create(key) {
    const h = new (noble().Poly1305)(key)
    return {
      update: (data) => void h.update(data),
      digest: () => h.digest(),
    }
  },
}

interface SodiumOnetimeAuth {
  crypto_onetimeauth_STATEBYTES: number
  crypto_onetimeauth(out: Uint8Array, message: Uint8Array, key: Uint8Array): void
  crypto_onetimeauth_init(state: Uint8Array, key: Uint8Array): void
  crypto_onetimeauth_update(state: Uint8Array, data: Uint8Array): void
  crypto_onetimeauth_final(state: Uint8Array, out: Uint8Array): void
}

let sodiumProvider: Poly1305Provider | null | undefined

/**
 * libsodium's Poly1305 (`crypto_onetimeauth` of `sodium-native`, ~3 GiB/s), or `undefined`
 * if the native module cannot be loaded on this platform.
 */
export function sodiumPoly1305(): Poly1305Provider | undefined {
  if (sodiumProvider === undefined) {
    try {
      const sodium = createRequire(import.meta.url)('sodium-native') as SodiumOnetimeAuth
      if (typeof sodium.crypto_onetimeauth !== 'function') throw new Error('crypto_onetimeauth missing')
      sodiumProvider = {
        name: 'sodium-native',
        mac(message, key) {
          const out = new Uint8Array(16)
          sodium.crypto_onetimeauth(out, message, key)
          return out
        },
        create(key) {
          const state = new Uint8Array(sodium.crypto_onetimeauth_STATEBYTES)
          sodium.crypto_onetimeauth_init(state, key)
          return {
            update: (data) => sodium.crypto_onetimeauth_update(state, data),
            digest() {
              const out = new Uint8Array(16)
              sodium.crypto_onetimeauth_final(state, out)
              return out
            },
          }
        },
      }
    } catch {
      sodiumProvider = null
    }
  }
  return sodiumProvider ?? undefined
}

let current: Poly1305Provider | undefined

/** The Poly1305 provider in use: `sodium-native` if it loads, else `noble`. */
export function poly1305Provider(): Poly1305Provider {
  current ??= sodiumPoly1305() ?? noblePoly1305
  return current
}

/** Chooses the Poly1305 provider used by every {@link Key} (e.g. {@link noblePoly1305} to avoid native code). */
export function setPoly1305Provider(provider: Poly1305Provider): void {
  current = provider
}
