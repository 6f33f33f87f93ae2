import { describeBackendConformance } from '@rustic-ts/backend-testkit'
// @ts-expect-error the example is plain JavaScript, without types
import { MapBackend } from '../../../../examples/custom-backend.mjs'
import type { WriteBackend } from '@rustic-ts/core'

/** The custom backend of examples/custom-backend.mjs passes the conformance kit, as a user's backend would. */
describeBackendConformance('MapBackend (examples/custom-backend.mjs)', async () => ({ backend: new MapBackend('conformance') as WriteBackend }), {
  largeFileSize: 4 * 1024 * 1024,
})
