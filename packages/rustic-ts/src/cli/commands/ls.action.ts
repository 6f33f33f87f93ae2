import type { Command } from 'commander'
import { longListingLine, lsNodeJson } from '@rustic-ts/core'
import { openRepo, writeOut } from '../context.js'
import { filterFrom, type FilterFlags } from '../filterFlags.js'
import { snapshotJson } from '../format.js'
import { globalOptions } from '../GlobalOptions.js'
import { withProfileOptions } from '../profileOptions.js'

interface LsFlags extends FilterFlags {
  long?: boolean
  recursive: boolean
  include?: string[]
  exclude?: string[]
}

/** The `ls` command's action (loaded when it runs). */
export async function lsAction(spec: string, opts: LsFlags, cmd: Command): Promise<void> {
  const g = globalOptions(cmd)
  // `latest`, `latest~N` read every snapshot; an id or a prefix reads one
  const repo = await openRepo(cmd, {}, { readsAllSnapshots: /^latest(~\d+)?(:|$)/.test(spec) })
  try {
    const indexed = await repo.toIndexed()
    const { snapshot, path, node } = await indexed.resolveSnapshotPath(spec, filterFrom(opts))
    // written in pieces of ~16 KiB: larger batches outlive the CLI's small young generation (1 MiB
    // semi-spaces), and copying them at every scavenge cost more than the writes they saved
    let out = ''
    const flush = async (): Promise<void> => {
      if (out.length > 0) await writeOut(out)
      out = ''
    }
    if (g.json) out += snapshotJson(snapshot, { struct_type: 'snapshot' }) + '\n'
    else out += `snapshot ${snapshot.id!.slice(0, 8)} of [${snapshot.paths.join(' ')}] at ${snapshot.time}:\n`
    const entries = indexed.ls(node, path, withProfileOptions(g.profile?.ls, { recursive: opts.recursive, include: opts.include, exclude: opts.exclude }))
    for await (const { path: p, node: n } of entries) {
      if (g.json) out += lsNodeJson(n, p) + '\n'
      else if (opts.long) out += longListingLine(n, p) + '\n'
      else out += p + '\n'
      if (out.length >= 16384) await flush()
    }
    await flush()
  } finally {
    await repo.close()
  }
}

