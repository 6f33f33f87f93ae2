import type { Command } from 'commander'
import { RusticError, shortId, type SnapshotModification } from '@rustic-ts/core'
import { goJson } from '@rustic-ts/core/internal'
import { openRepo, writeOut } from '../context.js'
import { filterFrom, type FilterFlags } from '../filterFlags.js'
import { globalOptions } from '../GlobalOptions.js'

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

/** The `tag` command's action (loaded when it runs). */
export async function tagAction(ids: string[], opts: TagFlags, cmd: Command): Promise<void> {
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
}

