import { RusticError } from '../error/RusticError.js'
import type { ConfigFile } from '../repofile/index.js'

/**
 * Throws `AppendOnly` when the repository's config has `append_only` set: `action` (e.g. `remove 3
 * snapshots`) would remove or rewrite files, which such a repository does not allow.
 */
export function refuseAppendOnly(config: ConfigFile, action: string): void {
  if (config.appendOnly === true) {
    throw new RusticError(
      'AppendOnly',
      `cannot ${action}: the repository is append-only (append_only is set in its config), so nothing in it may be removed or changed`,
      { code: 'AppendOnly' },
    )
  }
}
