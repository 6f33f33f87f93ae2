import { fileName } from '../backend/DecryptBackend.js'
import { parseIndexJson, type IndexFile } from '../repofile/IndexFile.js'
import { ScannedPacks, scanIndexBytes, type ScannedIndex } from '../repofile/scanIndexBytes.js'
import type { Id } from '../id/Id.js'
import { freeBuffer } from '../workers/freeBuffer.js'
import type { BlobIndex } from '../index/BlobIndex.js'
import type { ProgressFactory } from '../progress/Progress.js'
import type { Repository } from './Repository.js'

/**
 * Reads index files of `repo` (all of them unless `ids` is given) into `index`, with progress.
 * @returns the ids of the files read.
 */
export async function loadIndexFiles(
  repo: Repository,
  index: BlobIndex,
  control: { signal?: AbortSignal; progress: ProgressFactory },
  ids?: Id[],
): Promise<Set<Id>> {
  const { signal } = control
  const toRead = ids ?? (await repo.backend.list('index', { signal }))
  const p = control.progress('counter', 'reading index')
  p.setLength(toRead.length)
  // index files as restic and rustic write them are read from their bytes into typed arrays (see
  // scanIndexBytes), without an object per blob; any other form is parsed the general way
  const read = (plain: Uint8Array, id: Id): [ScannedIndex | IndexFile, Uint8Array] => [
    scanIndexBytes(plain) ?? parseIndexJson(plain, fileName('index', id)),
    plain,
  ]
  for await (const [file, json] of repo.dbe.streamAll('index', read, { signal, ids: toRead, concurrency: repo.options.concurrency })) {
    if (file.packs instanceof ScannedPacks) index.addScannedIndex(file as ScannedIndex)
    else index.addIndexFile(file as IndexFile)
    // the index copied what it needs (ids into its own table): the file's JSON (~2 MiB at 12,000 blobs) goes back
    // now instead of at the next full collection, which in a backup comes late (its memory peaks meanwhile)
    freeBuffer(json)
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
