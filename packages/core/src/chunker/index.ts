export { Chunker } from './Chunker.js'
export { ChunkerState } from './ChunkerState.js'
export { cutMask } from './CutSearch.js'
export {
  ChunkerOptionsSchema,
  resolveChunkerOptions,
  DEFAULT_MIN_CHUNK_SIZE,
  DEFAULT_MAX_CHUNK_SIZE,
  DEFAULT_AVERAGE_BITS,
  type ChunkerOptions,
  type ResolvedChunkerOptions,
} from './ChunkerOptions.js'
export { chunkerTables, WINDOW_SIZE, type ChunkerTables } from './ChunkerTables.js'
export {
  type Polynomial,
  randomPolynomial,
  isIrreducible,
  parsePolynomial,
  formatPolynomial,
  polynomialDegree,
  polynomialMod,
  polynomialMulMod,
  polynomialGcd,
} from './Polynomial.js'
