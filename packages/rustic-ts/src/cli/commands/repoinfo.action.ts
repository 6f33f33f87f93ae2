import type { Command } from 'commander'
import type { BlobInfo, PackInfo, RepoFileInfo, RepoInfo } from '@rustic-ts/core'
import { openRepo, writeOut } from '../context.js'
import { table } from '../format.js'
import { globalOptions } from '../GlobalOptions.js'
import { humanBytes } from '../progressBar.js'

interface RepoInfoFlags {
  onlyFiles?: boolean
  onlyIndex?: boolean
  unused: boolean
}

function describe(info: RepoInfo): string {
  const out: string[] = []
  const files = (title: string, list: RepoFileInfo[]): void => {
    out.push(title, table(['File type', 'Count', 'Total size'], [...list.map((f) => [f.type, String(f.count), humanBytes(f.size)]), total(list)]))
  }
  if (info.files) {
    files('repository files', info.files.repo)
    if (info.files.repoHot) files('hot repository files', info.files.repoHot)
  }
  const blobs = (title: string, list: BlobInfo[]): void => {
    if (list.every((b) => b.count === 0) && title !== 'blobs') return
    out.push(
      title,
      table(
        ['Blob type', 'Count', 'Total size', 'Total size in packs'],
        list.map((b) => [b.type, String(b.count), humanBytes(b.dataSize), humanBytes(b.size)]),
      ),
    )
  }
  const packs = (title: string, list: PackInfo[]): void => {
    if (list.every((p) => p.count === 0) && title !== 'packs') return
    out.push(
      title,
      table(
        ['Pack type', 'Count', 'Total size', 'Min size', 'Max size'],
        list.map((p) => [p.type, String(p.count), humanBytes(p.size), p.minSize === undefined ? '-' : humanBytes(p.minSize), p.maxSize === undefined ? '-' : humanBytes(p.maxSize)]),
      ),
    )
  }
  if (info.index) {
    blobs('blobs', info.index.blobs)
    blobs('blobs in packs marked for deletion', info.index.blobsDelete)
    packs('packs', info.index.packs)
    packs('packs marked for deletion', info.index.packsDelete)
    out.push(`compression ratio: ${info.index.compressionRatio.toFixed(2)}x (plaintext bytes per stored byte)\n`)
  }
  if (info.unused) {
    const size = info.unused.reduce((n, b) => n + b.size, 0)
    out.push(
      'unused blobs (no snapshot needs them; prune frees them)',
      table(['Blob type', 'Count', 'Total size', 'Total size in packs'], info.unused.map((b) => [b.type, String(b.count), humanBytes(b.dataSize), humanBytes(b.size)])),
      `unused data: ${humanBytes(size)} stored\n`,
    )
  }
  return out.join('\n')
}

function total(list: RepoFileInfo[]): string[] {
  return ['total', String(list.reduce((n, f) => n + f.count, 0)), humanBytes(list.reduce((n, f) => n + f.size, 0))]
}

/** The same data with snake_case keys, as the CLI's other JSON output. */
function snakeCase(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(snakeCase)
  if (value === null || typeof value !== 'object') return value
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`), snakeCase(v)]))
}

/** The `repoinfo` command's action (loaded when it runs). */
export async function repoinfoAction(f: RepoInfoFlags, cmd: Command): Promise<void> {
  const g = globalOptions(cmd)
  const repo = await openRepo(cmd)
  try {
    const info = await repo.repoInfo({
      files: !f.onlyIndex,
      index: !f.onlyFiles,
      unused: f.unused && !f.onlyFiles && !f.onlyIndex,
    })
    await writeOut(g.json ? JSON.stringify(snakeCase(info)) + '\n' : describe(info))
  } finally {
    await repo.close()
  }
}

