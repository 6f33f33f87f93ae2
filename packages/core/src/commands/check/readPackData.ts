import pLimit from 'p-limit'
import type { Key } from '../../crypto/Key.js'
import { isRusticError, throwIfAborted } from '../../error/RusticError.js'
import type { Id } from '../../id/Id.js'
import type { Progress } from '../../progress/Progress.js'
import type { IndexBlob } from '../../repofile/index.js'
import { ByteBudget } from '../../util/ByteBudget.js'
import type { FindingCollector } from './CheckFinding.js'
import { verifyPack, type PackVerification } from './verifyPack.js'

/** A pack to download and verify. */
export interface PackToRead {
  id: Id
  /** Its size in the repository. */
  size: number
  /** The index's entries for it. */
  blobs: readonly IndexBlob[]
}

/** What {@link readPackData} did. */
export interface PackDataRead {
  packs: number
  bytes: number
}

/**
 * Records what {@link verifyPack} found as findings about pack `id`.
 * @param copy - names a copy other than the repository's own (e.g. `hot repository`), for the messages.
 */
export function recordPackProblems(id: Id, verification: PackVerification, findings: FindingCollector, copy?: string): void {
  for (const p of verification.problems) {
    findings.add(p.kind, copy ? `${copy}: ${p.message}` : p.message, { file: { type: 'pack', id }, ...(p.blob ? { blob: p.blob } : {}) })
  }
}

/**
 * Downloads each pack once and verifies it ({@link verifyPack}), `concurrency` downloads at a time and no
 * more than `memory` bytes of packs held at once (one pack is always allowed), so memory stays bounded
 * whatever the repository's size. A pack that cannot be downloaded is a finding, not a failure.
 * @param read - downloads a whole pack.
 */
export async function readPackData(
  key: Key,
  packs: readonly PackToRead[],
  read: (pack: PackToRead, signal?: AbortSignal) => Promise<Uint8Array>,
  findings: FindingCollector,
  options: { concurrency: number; memory: number; signal?: AbortSignal; progress: Progress; copy?: string },
): Promise<PackDataRead> {
  const limit = pLimit(options.concurrency)
  const budget = new ByteBudget(options.memory)
  const done: PackDataRead = { packs: 0, bytes: 0 }
  const one = async (pack: PackToRead): Promise<void> => {
    throwIfAborted(options.signal)
    await budget.acquire(pack.size)
    try {
      throwIfAborted(options.signal)
      let bytes: Uint8Array
      try {
        bytes = await read(pack, options.signal)
      } catch (e) {
        if (isRusticError(e, 'Aborted') || options.signal?.aborted) throw e
        const where = options.copy ? `${options.copy}: ` : ''
        findings.add('packReadFailed', `${where}pack ${pack.id} failed to download: ${(e as Error).message}`, { file: { type: 'pack', id: pack.id } })
        return
      }
      recordPackProblems(pack.id, verifyPack(key, pack.id, bytes, pack.blobs), findings, options.copy)
      done.packs++
      done.bytes += bytes.length
    } finally {
      budget.release(pack.size)
      options.progress.inc(pack.size)
    }
  }
  try {
    await Promise.all(packs.map((p) => limit(() => one(p))))
  } finally {
    limit.clearQueue()
  }
  return done
}
