import { z } from 'zod'
import { CIPHERTEXT_OVERHEAD } from '../crypto/Key.js'
import { RusticError, throwIfAborted } from '../error/RusticError.js'
import { unixPermFromGoMode, type Node } from '../repofile/index.js'
import type { IndexedRepository } from '../repository/IndexedRepository.js'
import type { Control } from '../progress/Control.js'
import { parseOptions } from '../util/parseOptions.js'
import { checkNodeName } from './restore/fsPath.js'
import { nodeTimeNs } from './restore/nodeTimes.js'
import { tarHeader, tarPadding, tarTrailer, type TarEntryHeader, type TarEntryType } from './tarHeader.js'

/** Options of `IndexedRepository.dump`, with defaults. */
export const DumpOptionsSchema = z.object({
  /** Archive format for directories (restic's default, `tar`). */
  archive: z.enum(['tar']).default('tar'),
  /** Blobs read ahead while streaming a file. */
  readAhead: z.number().int().positive().default(8),
})

/** Options of `IndexedRepository.dump`; see {@link DumpOptionsSchema}. */
export type DumpOptions = z.input<typeof DumpOptionsSchema>

/** Linux `major()` / `minor()` of a `dev_t`. */
function devNumbers(dev: bigint): { devmajor: number; devminor: number } {
  return {
    devmajor: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)),
    devminor: Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn)),
  }
}

/** Mode bits in a tar for a node without a mode (snapshots rustic took on Windows): 0644, 0755 for directories. */
const NO_MODE: Partial<Record<Node['type'], number>> = { dir: 0o755, symlink: 0o777 }

/**
 * The tar header fields of a node. Extended attributes become `SCHILY.xattr.<name>` PAX records as in
 * restic, except POSIX ACLs (`system.posix_acl_*`), which restic turns into `SCHILY.acl.*` text and which
 * are left out here.
 */
function tarEntryHeader(node: Node, name: string, type: TarEntryType, size: bigint): TarEntryHeader {
  const h: TarEntryHeader = {
    name,
    type,
    mode: node.mode === undefined ? (NO_MODE[node.type] ?? 0o644) : unixPermFromGoMode(node.mode),
    uid: node.uid,
    gid: node.gid,
    uname: node.user ?? '',
    gname: node.group ?? '',
    size,
  }
  const mtime = nodeTimeNs(node.mtime)
  if (mtime !== undefined) h.mtimeNs = mtime
  if (node.type === 'symlink') h.linkname = node.linktarget ?? ''
  if (node.type === 'dev' || node.type === 'chardev') Object.assign(h, devNumbers(node.device ?? 0n))
  const xattrs = (node.extendedAttributes ?? []).filter((a) => !a.name.startsWith('system.posix_acl_'))
  if (xattrs.length > 0) h.pax = xattrs.map((a) => [`SCHILY.xattr.${a.name}`, a.value] as const)
  return h
}

const TAR_TYPES: Partial<Record<Node['type'], TarEntryType>> = {
  file: 'file',
  dir: 'dir',
  symlink: 'symlink',
  fifo: 'fifo',
  chardev: 'chardev',
  dev: 'dev',
}

/**
 * The content of a snapshot entry as bytes (restic's `dump`): a file's content, or a directory as a tar
 * stream holding everything below it, with headers as restic 0.14 writes them (see `tarHeader.ts`: USTAR,
 * PAX records for what USTAR cannot hold, mtimes rounded to the second; nodes without a mode get 0644,
 * 0755 for directories, where restic writes 0000), named by snapshot path without the leading `/`
 * (as restic does: `dump SNAP /home` gives `home/me/...`). Hard links are written as regular files and
 * sockets are left out, as restic does.
 * @param path - the node's path in the snapshot (from {@link IndexedRepository.resolveSnapshotPath}).
 */
export function dump(
  indexed: IndexedRepository,
  node: Node,
  path: string,
  options: DumpOptions = {},
  control: Control = {},
): AsyncIterable<Uint8Array> {
  const opts = parseOptions(DumpOptionsSchema, options, 'dump options')
  const { signal } = control
  if (node.type === 'file') return indexed.readFile(node, { readAhead: opts.readAhead }, { signal })
  if (node.type !== 'dir') {
    throw new RusticError('InvalidInput', `${path || '/'} is a ${node.type}: dump writes files and directories`, { code: 'NotAFile' })
  }
  return dumpTar(indexed, node, path, opts, signal)
}

async function* dumpTar(
  indexed: IndexedRepository,
  dir: Node,
  path: string,
  opts: z.output<typeof DumpOptionsSchema>,
  signal: AbortSignal | undefined,
): AsyncGenerator<Uint8Array> {
  for await (const { path: p, node } of indexed.walk(dir, path, {}, { signal })) {
    throwIfAborted(signal)
    checkNodeName(node, p.slice(0, p.length - node.name.length - 1))
    const type = TAR_TYPES[node.type]
    if (type === undefined) continue
    const name = p.replace(/^\/+/, '') + (node.type === 'dir' ? '/' : '')
    if (node.type !== 'file') {
      yield tarHeader(tarEntryHeader(node, name, type, 0n))
      continue
    }
    let size = 0n
    for (const id of node.content ?? []) {
      const loc = indexed.locate('data', id)
      size += BigInt(loc.uncompressedLength ?? loc.length - CIPHERTEXT_OVERHEAD)
    }
    yield tarHeader(tarEntryHeader(node, name, 'file', size))
    let written = 0n
    for await (const chunk of indexed.readFile(node, { readAhead: opts.readAhead }, { signal })) {
      written += BigInt(chunk.length)
      yield chunk
    }
    if (written !== size) {
      throw new RusticError('Verification', `${p}: its content has ${written} bytes, its blobs in the index ${size}`, { code: 'IntegrityError' })
    }
    yield tarPadding(size)
  }
  yield tarTrailer()
}
