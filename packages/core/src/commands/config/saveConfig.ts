import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CONFIG_ID, type WriteBackend } from '../../backend/Backend.js'
import { isRusticError, RusticError } from '../../error/RusticError.js'
import { parseConfig, serializeConfig, type ConfigFile } from '../../repofile/index.js'
import type { Repository } from '../../repository/Repository.js'
import { backendLayers } from '../check/backendLayers.js'

/**
 * Replaces a repository's config (and, in a hot/cold repository, the hot part's copy, marked `is_hot`)
 * as restic's `upgrade_repo_v2` migration does: the old config file is first saved to a private
 * temporary directory; the new one is written over it (or, where the backend refuses to overwrite, as
 * a REST server does, after removing it) and read back; if that fails the old one is put back. The copy
 * is removed once the new config is in place, and named in the error otherwise.
 * @throws RusticError `ConfigWriteFailed`.
 */
export async function saveConfig(repo: Repository, config: ConfigFile, signal?: AbortSignal): Promise<void> {
  const layers = backendLayers(repo.backend)
  await replaceConfig(repo, layers.packs, 'config', { ...config, isHot: undefined }, signal)
  if (layers.hot) await replaceConfig(repo, layers.hot, 'config of the hot repository', { ...config, isHot: true }, signal)
}

/** The repository's config as stored now (the cold one in a hot/cold repository). */
export async function readStoredConfig(repo: Repository, signal?: AbortSignal): Promise<ConfigFile> {
  const backend = backendLayers(repo.backend).packs
  return parseConfig(repo.key.decrypt(await backend.readFull('config', CONFIG_ID, { signal }), 'config'))
}

async function replaceConfig(repo: Repository, backend: WriteBackend, what: string, config: ConfigFile, signal?: AbortSignal): Promise<void> {
  const old = await backend.readFull('config', CONFIG_ID, { signal })
  const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-config-'))
  const backup = join(dir, 'config')
  await writeFile(backup, old, { mode: 0o600 })
  const sealed = repo.key.encrypt(serializeConfig(config))
  try {
    await writeConfigFile(backend, sealed, signal)
    const stored = parseConfig(repo.key.decrypt(await backend.readFull('config', CONFIG_ID, { signal }), what))
    if (Buffer.compare(serializeConfig(stored), serializeConfig(config)) !== 0) {
      throw new RusticError('Verification', `the ${what} read back differs from the one written`, { code: 'IntegrityError' })
    }
  } catch (e) {
    let restored = true
    try {
      await writeConfigFile(backend, old)
    } catch {
      restored = false
    }
    throw new RusticError(
      'Repository',
      `cannot write the new ${what} of ${backend.location()}: ${(e as Error).message}; ` +
        (restored ? 'the old config was put back' : 'putting the old config back failed as well') +
        `; a copy of the old config file is kept at ${backup}`,
      { code: 'ConfigWriteFailed', cause: e },
    )
  }
  await rm(dir, { recursive: true, force: true })
}

/** Writes the config file, removing the old one first where the backend does not overwrite it. */
async function writeConfigFile(backend: WriteBackend, data: Uint8Array, signal?: AbortSignal): Promise<void> {
  try {
    await backend.writeBytes('config', CONFIG_ID, false, data, { signal })
  } catch (e) {
    if (!isRusticError(e) || (e.code !== 'PermissionDenied' && e.code !== 'AlreadyExists')) throw e
    await backend.remove('config', CONFIG_ID, false, { signal })
    await backend.writeBytes('config', CONFIG_ID, false, data, { signal })
  }
}
