import type { Command } from 'commander'
import { RusticError, StatsModeSchema, type StatsMode } from '@rustic-ts/core'
import { openRepo, writeOut } from '../context.js'
import { filterFrom, type FilterFlags } from '../filterFlags.js'
import { globalOptions } from '../GlobalOptions.js'
import { humanBytes } from '../progressBar.js'

/** The `stats` command's action (loaded when it runs). */
export async function statsAction(specs: string[], f: FilterFlags & { mode: string }, cmd: Command): Promise<void> {
  const g = globalOptions(cmd)
  const mode = StatsModeSchema.safeParse(f.mode)
  if (!mode.success) {
    throw new RusticError('InvalidInput', `unknown counting mode "${f.mode}": use restore-size, files-by-contents, blobs-per-file or raw-data`, {
      code: 'InvalidArgument',
    })
  }
  const repo = await openRepo(cmd)
  try {
    const s = await (await repo.toIndexed()).stats({ mode: mode.data as StatsMode, snapshots: specs, filter: filterFrom(f) })
    if (g.json) {
      const json: Record<string, unknown> = { total_size: s.totalSize, total_file_count: s.totalFileCount }
      if (s.totalBlobCount > 0) json['total_blob_count'] = s.totalBlobCount
      json['snapshots_count'] = s.snapshotsCount
      if (s.totalUncompressedSize !== undefined) {
        json['total_uncompressed_size'] = s.totalUncompressedSize
        json['compression_ratio'] = s.compressionRatio
      }
      return await writeOut(JSON.stringify(json) + '\n')
    }
    const lines = [`Stats in ${s.mode} mode:`, `Snapshots processed:   ${s.snapshotsCount}`]
    if (s.totalBlobCount > 0) lines.push(`   Total Blob Count:   ${s.totalBlobCount}`)
    if (s.totalFileCount > 0) lines.push(`   Total File Count:   ${s.totalFileCount}`)
    lines.push(`         Total Size:   ${humanBytes(s.totalSize)}`)
    if (s.totalUncompressedSize !== undefined) {
      lines.push(`Uncompressed Size:     ${humanBytes(s.totalUncompressedSize)}`, `Compression Ratio:     ${s.compressionRatio!.toFixed(2)}x`)
    }
    await writeOut(lines.join('\n') + '\n')
  } finally {
    await repo.close()
  }
}

