import type { ReadBackend } from '../../backend/Backend.js'
import { fileName } from '../../backend/DecryptBackend.js'
import { hashId, type Id } from '../../id/Id.js'
import { parseKeyFile } from '../../repofile/index.js'
import type { FindingCollector } from './CheckFinding.js'

/**
 * Reads every key file: it must hash to its id and parse (only the key that opened the repository can be
 * tried with the password; the others are checked for damage only).
 */
export async function checkKeys(backend: ReadBackend, ids: Iterable<Id>, findings: FindingCollector, signal?: AbortSignal): Promise<void> {
  for (const id of ids) {
    let why: string | undefined
    try {
      const data = await backend.readFull('key', id, { signal })
      const actual = hashId(data)
      if (actual !== id) why = `its content hashes to ${actual}`
      else parseKeyFile(data, fileName('key', id))
    } catch (e) {
      if (signal?.aborted) throw e
      why = (e as Error).message
    }
    if (why !== undefined) findings.add('keyDamaged', `${fileName('key', id)} is damaged: ${why}`, { file: { type: 'key', id } })
  }
}
