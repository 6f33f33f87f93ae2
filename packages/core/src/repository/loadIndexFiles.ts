import type { CallOptions } from '../backend/Backend.js'
import { fileName } from '../backend/DecryptBackend.js'
import type { Id } from '../id/Id.js'
import type { BlobIndex } from '../index/BlobIndex.js'
import { parseIndex } from '../repofile/index.js'
import type { Repository } from './Repository.js'

/**
 * Reads index files of `repo` (all of them unless `ids` is given) into `index`, with progress.
 * @returns the ids of the files read.
 */
export async function loadIndexFiles(repo: Repository, index: BlobIndex, options: CallOptions = {}, ids?: Id[]): Promise<Set<Id>> {
  const toRead = ids ?? (await repo.backend.list('index', options))
  const p = repo.progress('counter', 'reading index')
  p.setLength(toRead.length)
  for await (const file of repo.dbe.streamAll('index', (plain, id) => parseIndex(plain, fileName('index', id)), {
    ...options,
    ids: toRead,
    concurrency: repo.options.concurrency,
  })) {
    index.addIndexFile(file)
    p.inc(1)
  }
  p.finish()
  return new Set(toRead)
}

/** True when an index file of `loaded` is no longer among `current` (the index was rewritten). */
export function indexFilesGone(loaded: ReadonlySet<Id>, current: readonly Id[]): boolean {
  const now = new Set(current)
  for (const id of loaded) if (!now.has(id)) return true
  return false
}
