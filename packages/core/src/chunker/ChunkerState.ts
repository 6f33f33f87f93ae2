import { resolveChunkerOptions, type ChunkerOptions } from './ChunkerOptions.js'
import { CutSearch } from './CutSearch.js'
import type { Polynomial } from './Polynomial.js'

/**
 * The synchronous, allocation-free core of the chunker: a Rabin fingerprint over a 64-byte sliding
 * window with restic's exact cut rules (github.com/restic/chunker), fed the bytes of one stream in
 * order, in as many pieces as you like, with {@link CutSearch.findCut}; see {@link CutSearch}. This
 * class validates its options and fills in restic's defaults.
 */
export class ChunkerState extends CutSearch {
  /** A state for a new stream, chunked with polynomial `pol` (degree 8 … 53) and `options` (restic's defaults). */
  constructor(pol: Polynomial, options: ChunkerOptions = {}) {
    super(pol, resolveChunkerOptions(options))
  }
}
