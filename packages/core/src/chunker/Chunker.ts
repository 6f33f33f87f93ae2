import { resolveChunkerOptions, type ChunkerOptions, type ResolvedChunkerOptions } from './ChunkerOptions.js'
import { ChunkerState } from './ChunkerState.js'
import type { Polynomial } from './Polynomial.js'

/**
 * restic's content-defined chunker (github.com/restic/chunker): splits byte streams into chunks
 * whose boundaries depend on the content only, so that equal data deduplicates. Cuts are exactly
 * restic's for the same polynomial and options.
 *
 * A `Chunker` holds settings only (the tables are computed once per polynomial and cached), so one
 * instance may chunk any number of streams, also concurrently.
 */
export class Chunker {
  /** The polynomial. */
  readonly pol: Polynomial
  /** The validated options, defaults filled in. */
  readonly options: Readonly<ResolvedChunkerOptions>

  /** A chunker for polynomial `pol` (the repository's `chunker_polynomial`), with restic's sizes unless `options` say otherwise. */
  constructor(pol: Polynomial, options: ChunkerOptions = {}) {
    this.options = Object.freeze(resolveChunkerOptions(options))
    this.pol = pol
    this.createState() // validates the polynomial with the options, computes and caches the tables
  }

  /** A fresh synchronous state for one stream (see {@link ChunkerState.findCut}). */
  createState(): ChunkerState {
    return new ChunkerState(this.pol, this.options)
  }

  /**
   * Splits a byte stream into chunks, in order; an empty stream gives none.
   *
   * Buffers: a chunk that lies within one buffer of `source` is yielded as a `subarray` of it (no
   * copy); a chunk that spans buffers is yielded as a fresh buffer. Either way a yielded chunk stays
   * valid as long as `source` does not overwrite buffers it has yielded (Node's file streams do not);
   * a source that reuses one read buffer must yield copies. Big source buffers (1–4 MiB) are best.
   */
  async *chunks(source: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): AsyncGenerator<Uint8Array> {
    const state = this.createState()
    let parts: Uint8Array[] = []
    let partsLength = 0
    for await (const buf of source) {
      let pos = 0
      while (pos < buf.length) {
        const cut = state.findCut(buf, pos, buf.length)
        if (cut < 0) {
          parts.push(pos === 0 ? buf : buf.subarray(pos))
          partsLength += buf.length - pos
          break
        }
        if (parts.length === 0) {
          yield buf.subarray(pos, cut)
        } else {
          parts.push(buf.subarray(pos, cut))
          const chunk = concat(parts, partsLength + cut - pos)
          parts = []
          partsLength = 0
          yield chunk
        }
        pos = cut
      }
    }
    state.finish()
    if (partsLength > 0) yield concat(parts, partsLength)
  }

  /**
   * Splits bytes held in memory; returns the chunks as subarrays of `data` (no copies).
   * The same cuts as {@link Chunker.chunks} gives for a stream of these bytes.
   */
  split(data: Uint8Array): Uint8Array[] {
    const state = this.createState()
    const out: Uint8Array[] = []
    let pos = 0
    while (pos < data.length) {
      const cut = state.findCut(data, pos, data.length)
      if (cut < 0) break
      out.push(data.subarray(pos, cut))
      pos = cut
    }
    if (pos < data.length) out.push(data.subarray(pos))
    return out
  }
}

function concat(parts: Uint8Array[], length: number): Uint8Array {
  if (parts.length === 1) return parts[0]!
  const out = Buffer.allocUnsafeSlow(length) // every byte is written below
  let off = 0
  for (const p of parts) {
    out.set(p, off)
    off += p.length
  }
  return out
}
