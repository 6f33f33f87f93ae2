import type { Id } from '../../id/Id.js'
import type { Node, NodeType } from '../../repofile/index.js'
import type { FsPath } from './fsPath.js'
import type { PackReads } from './PackReads.js'
import type { PlannedFiles } from './PlannedFiles.js'
import type { PlanEntries } from './PlanEntries.js'
import type { ResolvedRestoreOptions } from './RestoreOptions.js'

/**
 * What restore does with one entry of the snapshot:
 * `create` (absent, or present with another type or symlink target: then also listed in
 * {@link RestorePlan.removals}), `modify` (an existing file whose differing blobs are rewritten in place),
 * `unchanged` (an existing file with the same size and mtime, or an existing directory, symlink, special
 * file or hard link: content left alone), `verified` (an existing file whose content was hashed and found
 * identical), `kept` (an existing entry the `overwrite` option leaves as it is: neither its content nor its
 * metadata is touched). Metadata (mode, times, ownership) is set on every other entry where it differs.
 */
export type PlanAction = 'create' | 'modify' | 'unchanged' | 'verified' | 'kept'

/** One snapshot entry to restore, as {@link PlanEntries.at} makes it. */
export interface PlanEntry {
  /** Path relative to the restored directory, starting with `/` (lossy UTF-8 for non-UTF-8 names). */
  path: string
  /** Where it goes on disk. */
  fsPath: FsPath
  /** The snapshot node's type. */
  type: NodeType
  /** What restore does with it. */
  action: PlanAction
  /** For a hard link to an earlier file of the plan: that file's entry index. */
  linkTo?: number
  /** For files with content to write: index into {@link RestorePlan.files}. */
  file?: number
}

/** Something restore removes from the target before restoring. */
export interface PlanRemoval {
  /** Path relative to the restored directory, starting with `/`. */
  path: string
  /** Where it is on disk. */
  fsPath: FsPath
  /** True for a directory (removed with everything below it). */
  isDir: boolean
  /** `additional`: not in the snapshot (with `delete`); `replaced`: in the way of a snapshot entry of another type or target. */
  reason: 'additional' | 'replaced'
}

/** A file whose content restore writes, as {@link PlannedFiles.at} makes it. */
export interface PlannedFile {
  /** Index into {@link RestorePlan.entries}. */
  entry: number
  /** Final size in bytes. */
  size: number
  /** True for a new file (created, truncated), false for an existing file changed in place. */
  create: boolean
  /** Number of blob writes into this file. */
  writes: number
}

/** A blob to read from a pack and write to one or more places, as {@link PackReads.blob} makes it. */
export interface PlannedBlob {
  /** The blob id. */
  id: Id
  /** Offset of the sealed blob in its pack. */
  offset: number
  /** Sealed (encrypted, maybe compressed) length. */
  length: number
  /** Uncompressed length for compressed blobs. */
  uncompressedLength?: number
  /** Plaintext length. */
  dataLength: number
  /** Where it goes: a file of {@link RestorePlan.files} and the offset in it. */
  targets: Array<{ file: number; offset: number }>
}

/** One ranged read of a pack, covering neighbouring blobs, as {@link PackReads.at} makes it. */
export interface PackRead {
  /** The pack. */
  packId: Id
  /** Start of the range in the pack. */
  offset: number
  /** Length of the range. */
  length: number
  /** The blobs in the range, by offset. */
  blobs: PlannedBlob[]
}

/** Counts of a restore plan (what `--dry-run` prints). */
export interface RestorePlanStats {
  /** Files by action (hard links to another file of the plan included). */
  files: Record<PlanAction, number>
  /** Directories to create, existing ones restored into, and entries in their place left alone (`overwrite`). */
  dirs: { create: number; unchanged: number; kept: number }
  /** Symlinks and special files to create, existing ones that match, and entries in their place left alone (`overwrite`). */
  others: { create: number; unchanged: number; kept: number }
  /** Entries to remove: not in the snapshot (`additional`, with `delete`) or in the way (`replaced`). */
  removals: { additional: number; replaced: number }
  /** Entries of the target not in the snapshot that are kept (no `delete`, or not selected). */
  additionalKept: number
  /** Bytes read from the repository (merged ranges, gaps included). */
  bytesToRead: number
  /** Plaintext bytes written into files. */
  bytesToWrite: number
  /** Bytes of file content already in place (unchanged, verified, or matching blobs of modified files). */
  bytesMatched: number
  /** Distinct blobs and packs to read. */
  blobs: number
  /** Packs to read. */
  packs: number
  /** Ranged reads. */
  reads: number
}

/**
 * What a restore will do, worked out before anything is written (rustic_core's `RestorePlan`):
 * made by {@link planRestore}, carried out by {@link restore}.
 */
export interface RestorePlan {
  /** The directory (or, for a single non-directory node, the path) restored into. */
  target: string
  /** True when the restored node is a directory (its entries go into {@link RestorePlan.target}). */
  isDir: boolean
  /** True when the target directory does not exist yet. */
  createTarget: boolean
  /**
   * For a directory below the snapshot's root restored into a target restore creates: its node, whose
   * mode, times and ownership the target directory gets (as restic's `restore SNAP:PATH`).
   */
  targetNode?: Node
  /**
   * Every selected entry, parents before children (tree order), held compactly (a few dozen bytes each):
   * `entries.at(i)` or iterating gives {@link PlanEntry} objects, made when asked for.
   */
  entries: PlanEntries
  /** What is removed first, in this order. */
  removals: PlanRemoval[]
  /**
   * Files with content to write, held compactly (17 bytes each): `files.entry(i)`, `files.size(i)`, ... read
   * one field, `files.at(i)` or iterating gives {@link PlannedFile} objects.
   */
  files: PlannedFiles
  /**
   * The pack reads, in the order they will be issued, with their blobs and where each goes, held compactly
   * in typed arrays (about 70 bytes a blob): `reads.at(i)` or iterating gives {@link PackRead} objects.
   */
  reads: PackReads
  /** The counts. */
  stats: RestorePlanStats
  /** The options the plan was made with; restore carries it out with them. */
  options: ResolvedRestoreOptions
}

/** A file restore could not restore completely: some of its data in the repository is damaged. */
export interface DamagedFile {
  /** Path relative to the restored directory, starting with `/`. */
  path: string
  /** Where it is on disk (it is there, with the parts that could be read; its times are not set). */
  fsPath: string
  /** Why: the first damaged blob's error (naming blob and pack). */
  error: string
}

/** What {@link restore} did. */
export interface RestoreStats {
  /** Files created or modified (content written, truncated or created empty). */
  filesWritten: number
  /** Directories created. */
  dirsCreated: number
  /** Symlinks, hard links and special files created. */
  othersCreated: number
  /** Entries removed from the target. */
  removed: number
  /** Bytes read from the repository. */
  bytesRead: number
  /** Plaintext bytes written. */
  bytesWritten: number
  /** Entries whose metadata (ownership, extended attributes, mode, times) was changed. */
  metadataSet: number
  /** Problems reported to `onWarning` (metadata or special files that could not be set or created). */
  warnings: number
  /**
   * Files whose content could not be restored completely because data of theirs in the repository is
   * damaged (a pack missing or cut short, a blob failing its checks); everything else was restored.
   * Each was also reported to `onWarning`.
   */
  damaged: DamagedFile[]
}
