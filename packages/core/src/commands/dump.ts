import { once } from 'node:events'
import type * as tar from 'tar-stream'
import { z } from 'zod'
import { CIPHERTEXT_OVERHEAD } from '../crypto/Key.js'
import { RusticError, throwIfAborted } from '../error/RusticError.js'
import { goTimeToDate, unixPermFromGoMode, type Node } from '../repofile/index.js'
import type { IndexedRepository } from '../repository/IndexedRepository.js'
import type { Control } from '../progress/Control.js'
import { parseOptions } from '../util/parseOptions.js'
import { checkNodeName } from './restore/fsPath.js'

/** Options of `IndexedRepository.dump`, with defaults. */
export const DumpOptionsSchema = z.object({
  /** Archive format for directories (restic's default, `tar`). */
  archive: z.enum(['tar']).default('tar'),
  /** Blobs read ahead while streaming a file. */
  readAhead: z.number().int().positive().default(8),
})

/** Options of `IndexedRepository.dump`; see {@link DumpOptionsSchema}. */
export type DumpOptions = z.input<typeof DumpOptionsSchema>

const TAR_TYPES: Partial<Record<Node['type'], tar.Header['type']>> = {
  file: 'file',
  dir: 'directory',
  symlink: 'symlink',
  fifo: 'fifo',
  chardev: 'character-device',
  dev: 'block-device',
}

/** Linux `major()` / `minor()` of a `dev_t`. */
function devNumbers(dev: bigint): { devmajor: number; devminor: number } {
  return {
    devmajor: Number(((dev >> 8n) & 0xfffn) | ((dev >> 32n) & ~0xfffn)),
    devminor: Number((dev & 0xffn) | ((dev >> 12n) & ~0xffn)),
  }
}

function mtimeOf(node: Node): Date {
  try {
    return goTimeToDate(node.mtime)
  } catch {
    return new Date(0)
  }
}

/**
 * The content of a snapshot entry as bytes (restic's `dump`): a file's content, or a directory as a tar
 * stream (via tar-stream) holding everything below it, named by snapshot path without the leading `/`
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
  // tar-stream (and its dependencies) is only loaded when a directory is dumped, not at start-up.
  // It is CommonJS: Node gives named exports and `default`, a bundler may give only `default`.
  const tarStream: typeof tar & { default?: typeof tar } = await import('tar-stream')
  const pack = (tarStream.default ?? tarStream).pack()
  const produce = async (): Promise<void> => {
    for await (const { path: p, node } of indexed.walk(dir, path, {}, { signal })) {
      throwIfAborted(signal)
      checkNodeName(node, p.slice(0, p.length - node.name.length - 1))
      const type = TAR_TYPES[node.type]
      if (type === undefined) continue
      const header: Partial<tar.Header> & { name: string } = {
        name: p.replace(/^\/+/, '') + (node.type === 'dir' ? '/' : ''),
        type,
        mode: unixPermFromGoMode(node.mode ?? 0),
        uid: node.uid,
        gid: node.gid,
        uname: node.user ?? '',
        gname: node.group ?? '',
        mtime: mtimeOf(node),
      }
      if (node.type === 'symlink') header.linkname = node.linktarget ?? ''
      if (node.type === 'dev' || node.type === 'chardev') Object.assign(header, devNumbers(node.device ?? 0n))
      if (node.type !== 'file') {
        await new Promise<void>((resolve, reject) => pack.entry(header, (err) => (err ? reject(err) : resolve())))
        continue
      }
      header.size = (node.content ?? []).reduce((sum, id) => {
        const loc = indexed.locate('data', id)
        return sum + (loc.uncompressedLength ?? loc.length - CIPHERTEXT_OVERHEAD)
      }, 0)
      let done!: Promise<void>
      const entry = pack.entry(header)
      done = new Promise<void>((resolve, reject) => {
        entry.once('finish', () => resolve())
        entry.once('error', (e: Error) => reject(e))
        entry.once('close', () => resolve())
      })
      for await (const chunk of indexed.readFile(node, { readAhead: opts.readAhead }, { signal })) {
        if (!entry.write(chunk)) await once(entry, 'drain')
      }
      entry.end(undefined)
      await done
    }
    pack.finalize()
  }
  const producing = produce().catch((e: unknown) => {
    pack.destroy(e as Error)
    throw e
  })
  producing.catch(() => {})
  try {
    for await (const chunk of pack as AsyncIterable<Uint8Array>) yield chunk
  } finally {
    pack.destroy()
  }
  await producing
}
