import pLimit from 'p-limit'
import { isNotFound } from '../../backend/BackendError.js'
import { fileName, type DecryptBackend } from '../../backend/DecryptBackend.js'
import type { Id } from '../../id/Id.js'
import type { WarningHandler } from '../../progress/Progress.js'
import { parseLock, type LockFile } from '../../repofile/index.js'

/** Options of {@link readLocks}. */
export interface ReadLocksOptions {
  signal?: AbortSignal
  /** Told about lock files that cannot be read or decoded (they are left out, as restic 0.14 does). */
  onWarning?: WarningHandler
  /** Lock files to leave out (e.g. one's own). */
  exclude?: ReadonlySet<Id>
  /** Files read at once (default 8). */
  concurrency?: number
}

/**
 * Lists and reads the repository's lock files. Files removed between listing and reading (a refresh
 * replaced them) are left out silently; files that cannot be read or decoded are left out with a
 * warning, as restic 0.14 ignores them.
 */
export async function readLocks(dbe: DecryptBackend, options: ReadLocksOptions = {}): Promise<Array<{ id: Id; lock: LockFile }>> {
  const ids = (await dbe.backend.list('lock', { signal: options.signal })).filter((id) => !options.exclude?.has(id))
  const limit = pLimit(options.concurrency ?? 8)
  const read = await Promise.all(
    ids.map((id) =>
      limit(async () => {
        try {
          return { id, lock: parseLock(await dbe.readEncryptedFull('lock', id, { signal: options.signal }), fileName('lock', id)) }
        } catch (e) {
          if (options.signal?.aborted) throw e
          if (!isNotFound(e)) options.onWarning?.(`ignoring lock ${id}: ${(e as Error).message}`, e)
          return undefined
        }
      }),
    ),
  )
  return read.filter((l) => l !== undefined)
}
