/**
 * The rustic-ts backend conformance suite, plus fault-injecting and counting backend wrappers for tests.
 * @packageDocumentation
 */
export * from './describeBackendConformance.js'
export * from './FaultInjectingBackend.js'
export * from './CountingBackend.js'
export { seededRandom } from './prng.js'
