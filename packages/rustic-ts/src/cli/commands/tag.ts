import type { Command } from 'commander'
import { RusticError, shortId, type SnapshotModification } from '@rustic-ts/core'
import { goJson } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { filterFrom, withFilterOptions, type FilterFlags } from '../filterFlags.js'
import { collect, globalOptions } from '../GlobalOptions.js'

interface TagFlags extends FilterFlags {
  add?: string[]
  set?: string[]
  remove?: string[]
  setLabel?: string
  setDescription?: string
  setDelete?: string
  setHost?: string
  setTime?: string
}

/** The modification the flags ask for. */
function modificationFrom(o: TagFlags): SnapshotModification {
  let setDelete: string | undefined = o.setDelete
  if (setDelete !== undefined && /^(none|not-?set)$/i.test(setDelete)) setDelete = 'notSet'
  return {
    setTags: o.set,
    addTags: o.add ?? [],
    removeTags: o.remove ?? [],
    setLabel: o.setLabel,
    setDescription: o.setDescription,
    setDelete,
    setHostname: o.setHost,
    setTime: o.setTime,
  }
}

/**
 * `tag`: changes snapshots' tags (restic's `--add`, `--set`, `--remove`) and rustic's fields (label,
 * description, delete policy, host, time). Without snapshot ids, every snapshot passing the filters.
 */
export function registerTag(program: Command): void {
  withFilterOptions(
    program
      .command('tag')
      .description('change the tags (and label, description, delete policy, host, time) of snapshots')
      .argument('[snapshots...]', 'ids, id prefixes, latest, latest~N (default: every snapshot passing the filters)')
      .option('--add <tags>', 'tags to add, as tag[,tag,...] (repeatable)', collect)
      .option('--set <tags>', 'tags that replace the existing ones, as tag[,tag,...] (repeatable; "" = no tags)', collect)
      .option('--remove <tags>', 'tags to remove, as tag[,tag,...] (repeatable)', collect)
      .option('--set-label <label>', 'set the label ("" removes it)')
      .option('--set-description <text>', 'set the description ("" removes it)')
      .option('--set-delete <when>', 'set the delete policy: never, none (remove it), a duration from now (30d) or a date (2026-01-01)')
      .option('--set-host <host>', 'set the host name')
      .option('--set-time <time>', 'set the snapshot time (2024-05-01 12:00:00 local, or RFC 3339)'),
  ).action(async (ids: string[], opts: TagFlags, cmd: Command) => {
    const g = globalOptions(cmd)
    const modification = modificationFrom(opts)
    if (opts.set !== undefined && (opts.add !== undefined || opts.remove !== undefined)) {
      throw new RusticError('InvalidInput', '--set and --add/--remove cannot be given at the same time', { code: 'InvalidOptions' })
    }
    const repo = await openRepo(cmd)
    try {
      const filter = filterFrom(opts)
      const snaps = ids.length > 0 ? await repo.findSnapshots(ids, filter) : await repo.getSnapshots(filter)
      const { modified, unchanged } = await repo.modifySnapshots(snaps, modification)
      if (g.json) {
        return await writeOut(
          goJson({ modified: modified.map((m) => ({ from: m.from, id: m.snapshot.id })), unchanged }) + '\n',
        )
      }
      const lines = modified.map((m) => `snapshot ${shortId(m.from)} saved as ${shortId(m.snapshot.id!)}\n`)
      lines.push(modified.length === 0 ? 'no snapshots were modified\n' : `modified ${modified.length} snapshot(s)\n`)
      await writeOut(lines.join(''))
    } finally {
      await repo.close()
    }
  })
}
