import { describeBackendConformance } from '@rustic-ts/backend-testkit'
import { MemoryBackend } from '@rustic-ts/core/internal'

describeBackendConformance('MemoryBackend', async () => ({ backend: new MemoryBackend('test') }))
