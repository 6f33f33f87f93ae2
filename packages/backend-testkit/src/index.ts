/**
 * The rustic-ts backend conformance suite, plus fault-injecting and counting backend wrappers for tests.
 * @packageDocumentation
 */
export { describeBackendConformance, CONFORMANCE_CHECKS } from './describeBackendConformance.js'
export type { BackendUnderTest, ConformanceCheck, ConformanceOptions } from './describeBackendConformance.js'
export { FaultInjectingBackend } from './FaultInjectingBackend.js'
export type { FaultInjectionOptions } from './FaultInjectingBackend.js'
export { CountingBackend } from './CountingBackend.js'
export type { BackendMethod, RecordedCall } from './CountingBackend.js'
export { seededRandom } from './prng.js'
