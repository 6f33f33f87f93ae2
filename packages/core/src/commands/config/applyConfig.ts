import { RusticError } from '../../error/RusticError.js'
import type { Control } from '../../progress/Control.js'
import { serializeConfig, type ConfigFile } from '../../repofile/index.js'
import type { Repository } from '../../repository/Repository.js'
import { parseOptions } from '../../util/parseOptions.js'
import { check } from '../check/check.js'
import type { CheckResult } from '../check/CheckFinding.js'
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

/** Error findings named in the error of a refused upgrade before "and N more". */
const SHOWN = 3

/**
 * Changes a repository's config (rustic's `config`; `setVersion: 2` is restic's `migrate
 * upgrade_repo_v2`). Invalid values are refused before anything is written. An upgrade from version 1
 * first checks the repository as restic's migration does (`check` without reading pack data) and is
 * refused when it finds errors; data written before stays uncompressed, new data is compressed. The
 * config file is replaced safely (see {@link saveConfig}). An append-only repository accepts only
 * `setAppendOnly: false` (as rustic). Holds the exclusive lock.
 * @throws RusticError `InvalidOptions`, `UnsupportedVersion`, `InvalidCompression`, `AppendOnly`,
 *   `ConfigChanged`, `CheckFailed`, `ConfigWriteFailed`, `RepositoryLocked`.
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
  return repo.withLock(
    'exclusive',
    async (lock) => {
      const { signal } = lock
      const current = await readStoredConfig(repo, signal)
      if (!sameConfig(current, previous)) {
        throw new RusticError(
          'Repository',
          `the config of ${repo.location()} was changed by another client since it was opened: open the repository again and retry`,
          { code: 'ConfigChanged' },
        )
      }
      if (previous.version === 1 && config.version === 2) {
        const result = await check(repo, { trustCache: true }, { ...control, signal })
        refuseOnErrors(result)
      }
      await lock.verify()
      await saveConfig(repo, config, signal)
      return { changed: true, previous, config }
    },
    control,
  )
}

/** Throws `CheckFailed` naming the first error findings, if the check found errors. */
function refuseOnErrors(result: CheckResult): void {
  const errors = result.findings.filter((f) => f.level === 'error')
  if (errors.length === 0) return
  const shown = errors.slice(0, SHOWN).map((f) => f.message)
  const more = errors.length > SHOWN ? `, and ${errors.length - SHOWN} more` : ''
  throw new RusticError(
    'Repository',
    `the repository was not upgraded: check found ${errors.length} error(s) (${shown.join('; ')}${more}); run check and repair it first`,
    { code: 'CheckFailed' },
  )
}

function sameConfig(a: ConfigFile, b: ConfigFile): boolean {
  return Buffer.compare(serializeConfig({ ...a, isHot: undefined }), serializeConfig({ ...b, isHot: undefined })) === 0
}
