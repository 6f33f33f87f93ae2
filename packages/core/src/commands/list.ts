import { streamIndexFiles } from '../backend/streamRepoFiles.js'
import type { FileType } from '../backend/FileType.js'
import { RusticError } from '../error/RusticError.js'
import type { Id } from '../id/Id.js'
import { type BlobType } from '../repofile/index.js'
import type { Repository } from '../repository/Repository.js'
import type { Control } from '../progress/Control.js'

/** The kinds of repository files `list` names as restic does. */
export type ListFileKind = 'packs' | 'index' | 'snapshots' | 'keys' | 'locks'

const FILE_TYPES: Readonly<Record<ListFileKind, FileType>> = {
  packs: 'pack',
  index: 'index',
  snapshots: 'snapshot',
  keys: 'key',
  locks: 'lock',
}

/** A repository file as `listFiles` gives it. */
export interface ListedFile {
  id: Id
  /** Size in bytes. */
  size: number
}

/** A blob as `listBlobs` gives it. */
export interface ListedBlob {
  type: BlobType
  id: Id
  /** The pack holding it. */
  pack: Id
}

/**
 * The files of one kind (restic's `list packs|index|snapshots|keys|locks`), in the backend's order.
 * @throws RusticError `InvalidInput` for an unknown kind.
 */
export async function listFiles(repo: Repository, kind: ListFileKind, control: Control = {}): Promise<ListedFile[]> {
  const type = FILE_TYPES[kind]
  if (type === undefined) {
    throw new RusticError('InvalidInput', `cannot list "${String(kind)}": expected one of blobs, ${Object.keys(FILE_TYPES).join(', ')}`, {
      code: 'InvalidOptions',
    })
  }
  const { signal } = repo.control(control)
  return (await repo.backend.listWithSize(type, { signal })).map(([id, size]) => ({ id, size }))
}

/**
 * Every blob every index file lists (restic's `list blobs`), index file by index file; a blob listed by
 * several index files (or in several packs) comes once for each.
 */
export async function* listBlobs(repo: Repository, control: Control = {}): AsyncGenerator<ListedBlob> {
  const { signal } = repo.control(control)
  const files = streamIndexFiles(repo.dbe, {
    concurrency: repo.options.concurrency,
    signal,
  })
  for await (const { file } of files) {
    for (const pack of file.packs) for (const b of pack.blobs) yield { type: b.type, id: b.id, pack: pack.id }
  }
}
