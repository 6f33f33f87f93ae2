import type { Command } from 'commander'
import { lazyAction } from '../lazyAction.js'

/** The prune flags (also taken by `forget --prune`). */
export interface PruneFlags {
  dryRun?: boolean
  maxUnused?: string
  maxRepackSize?: string
  maxRepack?: string
  keepPack?: string
  keepDelete?: string
  instantDelete?: boolean
  repackUncompressed?: boolean
  repackSmall?: boolean
  repackAll?: boolean
  repackCacheableOnly?: boolean
  /** False with `--no-resize`. */
  resize: boolean
  fastRepack?: boolean
  ignoreLocks?: boolean
}

/** Adds the prune flags but `--dry-run` (restic's and rustic's names) to a command. */
export function withPruneFlags(cmd: Command): Command {
  return cmd
    .option('--max-unused <limit>', "unused data to tolerate: a percentage of the used data, a size (1G) or 'unlimited'", '5%')
    .option('--max-repack-size <size>', 'most data to repack (restic)')
    .option('--max-repack <limit>', "most data to repack: a size, a percentage of the repository or 'unlimited' (rustic; default 10%)")
    .option('--keep-pack <duration>', 'neither repack nor remove packs younger than this, e.g. 30d', '0')
    .option('--keep-delete <duration>', 'remove packs marked for deletion only once they have been marked this long', '23h')
    .option('--instant-delete', 'remove unneeded packs at once instead of marking them (only while no other client writes)')
    .option('--repack-uncompressed', 'repack packs with uncompressed blobs, compressing them (repository version 2)')
    .option('--repack-small', 'also repack packs below 80% of the target pack size')
    .option('--repack-all', 'repack every pack')
    .option('--repack-cacheable-only', 'repack only tree packs')
    .option('--no-resize', 'do not repack packs only because of their size')
    .option('--fast-repack', 'copy blobs as stored, without checking them')
    .option('--ignore-locks', "take no lock and ignore other clients' locks (repositories without restic clients: relies on marking alone)")
}

/** `prune`: removes data no snapshot needs (rustic's two-phase prune, with restic's and rustic's flags). */
export function registerPrune(program: Command): void {
  const cmd = program
    .command('prune')
    .description('remove data no snapshot needs: repack partly used packs, mark unneeded packs for deletion, remove packs marked long enough ago')
    .option('-n, --dry-run', 'only print what would be done')
  withPruneFlags(cmd).action(lazyAction(async () => (await import('./prune.action.js')).pruneAction))
}
