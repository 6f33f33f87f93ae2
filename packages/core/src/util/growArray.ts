/** A typed array of the compact tables (restore plan, index). */
export type GrowableArray = Int32Array | Uint32Array | Uint8Array | Float64Array | BigInt64Array

/** `a`, or a copy of it with room for at least `need` elements (doubling), zero-filled past its end. */
export function grow<T extends GrowableArray>(a: T, need: number): T {
  if (need <= a.length) return a
  const b = new (a.constructor as new (n: number) => T)(Math.max(need, a.length * 2))
  b.set(a as never)
  return b
}

/** The first `n` elements of `a` in an array of their own (no spare room). */
export function trimmed<T extends GrowableArray>(a: T, n: number): T {
  return n === a.length ? a : (a.slice(0, n) as T)
}
