import { RusticError } from '../../error/RusticError.js'
import type { Control } from '../../progress/Control.js'
import { noProgress } from '../../progress/Progress.js'
import { serializeConfig, type ConfigFile } from '../../repofile/index.js'
import type { Repository } from '../../repository/Repository.js'
import { parseOptions } from '../../util/parseOptions.js'
import { checkBeforeUpgrade } from './checkBeforeUpgrade.js'
import { applyConfigOptions, ConfigOptionsSchema, type ConfigOptions } from './ConfigOptions.js'
import { readStoredConfig, saveConfig } from './saveConfig.js'

/** What {@link Repository.applyConfig} did. */
export interface ApplyConfigResult {
  /** False when the options changed nothing (then nothing was written). */
  changed: boolean
  /** The config before. */
  previous: ConfigFile
  /** The config now. */
  config: ConfigFile
}

/**
 * Changes a repository's config (rustic's `config`; `setVersion: 2` is restic's `migrate
 * upgrade_repo_v2`). Invalid values are refused before anything is written. An upgrade from version 1
 * first checks the repository as restic does (see {@link checkBeforeUpgrade}); data written before
 * stays uncompressed, new data is compressed. The config file is replaced safely (see
 * {@link saveConfig}). An append-only repository accepts only `setAppendOnly: false` (as rustic).
 * Takes an exclusive lock.
 * @throws RusticError `InvalidOptions`, `UnsupportedVersion`, `InvalidCompression`, `AppendOnly`,
 *   `ConfigChanged`, `UpgradeCheckFailed`, `ConfigWriteFailed`, `RepositoryLocked`.
 */
export async function applyConfig(repo: Repository, options: ConfigOptions, control: Control = {}): Promise<ApplyConfigResult> {
  const o = parseOptions(ConfigOptionsSchema, options, 'config options')
  if (repo.config.appendOnly === true && o.setAppendOnly !== false) {
    throw new RusticError(
      'AppendOnly',
      'cannot change the config of an append-only repository: turn append-only mode off first (set-append-only false), if you know what you are doing',
      { code: 'AppendOnly' },
    )
  }
  const previous = repo.config
  const config = applyConfigOptions(previous, o)
  if (sameConfig(config, previous)) return { changed: false, previous, config: previous }
  return repo.withLock('exclusive', control, async (lock) => {
    const signal = lock.signal
    const current = await readStoredConfig(repo, signal)
    if (!sameConfig(current, previous)) {
      throw new RusticError('Repository', `the config of ${repo.location()} was changed by another client since it was opened: open the repository again and retry`, {
        code: 'ConfigChanged',
      })
    }
    if (previous.version === 1 && config.version === 2) {
      const p = (control.progress ?? repo.progress ?? noProgress)('counter', 'checking the repository before the upgrade')
      try {
        await checkBeforeUpgrade(repo, p, signal)
      } finally {
        p.finish()
      }
    }
    await lock.verify()
    await saveConfig(repo, config, signal)
    return { changed: true, previous, config }
  })
}

function sameConfig(a: ConfigFile, b: ConfigFile): boolean {
  return Buffer.compare(serializeConfig({ ...a, isHot: undefined }), serializeConfig({ ...b, isHot: undefined })) === 0
}
