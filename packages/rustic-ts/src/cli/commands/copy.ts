import type { Command } from 'commander'
import { withFilterOptions } from '../filterFlags.js'
import { collect } from '../GlobalOptions.js'
import { lazyAction } from '../lazyAction.js'

/**
 * `copy`: in restic's form (`-r DEST copy --from-repo SRC [SNAPSHOT...]`, restic 0.14's flags) copies
 * from SRC into the repository; in rustic's form (`-r SRC copy` with `--target PROFILE` or a profile's
 * `[copy] targets`) copies the repository into each target.
 */
export function registerCopy(program: Command): void {
  withFilterOptions(
    program
      .command('copy')
      .description('copy snapshots from --from-repo into this repository (-r), or from this repository into each --target / [copy] target of the profile')
      .argument('[snapshots...]', 'snapshot ids, prefixes or latest (default: all passing the filters)')
      .option('--from-repo <repo>', 'source repository (env RUSTIC_FROM_REPOSITORY or RESTIC_FROM_REPOSITORY)')
      .option('--from-repository-file <file>', 'file holding the source repository (env RUSTIC_FROM_REPOSITORY_FILE or RESTIC_FROM_REPOSITORY_FILE)')
      .option('--from-password-file <file>', 'password file of the source (env RUSTIC_FROM_PASSWORD_FILE or RESTIC_FROM_PASSWORD_FILE)')
      .option('--from-password-command <cmd>', 'command printing the password of the source (env RUSTIC_FROM_PASSWORD_COMMAND or RESTIC_FROM_PASSWORD_COMMAND)')
      .option('--target <profile>', "copy this repository into the [repository] of this profile (repeatable; default: the profile's [copy] targets)", collect)
      .option('--init', "create a target that does not exist yet, with this repository's version and chunker (rustic's form)")
      .option('-n, --dry-run', 'only show which snapshots would be copied'),
  ).action(lazyAction(async () => (await import('./copy.action.js')).copyAction))
}
