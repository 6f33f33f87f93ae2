import type { Id } from '../id/Id.js'
import { parseIndex, parseSnapshot, type IndexFile, type SnapshotFile } from '../repofile/index.js'
import { fileName, type DecryptBackend } from './DecryptBackend.js'

/** Options of {@link streamIndexFiles} and {@link streamSnapshotFiles}: those of `DecryptBackend.streamAll`. */
export type StreamFilesOptions = Parameters<DecryptBackend['streamAll']>[2]

/**
 * Reads, decrypts and parses the index files (all, or `options.ids`), `concurrency` at a time, in no
 * particular order. A file that fails goes to `options.onError` when given, else fails the stream.
 */
export function streamIndexFiles(dbe: DecryptBackend, options?: StreamFilesOptions): AsyncGenerator<{ id: Id; file: IndexFile }> {
  return dbe.streamAll('index', (plain, id) => ({ id, file: parseIndex(plain, fileName('index', id)) }), options)
}

/**
 * Reads, decrypts and parses the snapshot files (all, or `options.ids`), each with its `id`, as
 * {@link streamIndexFiles} does.
 */
export function streamSnapshotFiles(dbe: DecryptBackend, options?: StreamFilesOptions): AsyncGenerator<SnapshotFile> {
  return dbe.streamAll('snapshot', (plain, id) => parseSnapshot(plain, fileName('snapshot', id), id), options)
}
