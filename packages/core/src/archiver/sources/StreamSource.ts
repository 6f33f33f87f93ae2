import type { Readable } from 'node:stream'
import { RusticError } from '../../error/RusticError.js'
import { goModeFromUnix } from '../../repofile/fileMode.js'
import { formatLocalGoTime } from '../../repofile/goTime.js'
import type { Node } from '../../repofile/Node.js'
import type { ContentOpener, ReadSource, ReadSourceEntry, SourceSize } from '../ReadSource.js'
import { goClean } from './goPath.js'

/** Where a {@link StreamSource} gets its bytes: a stream, or a function opening one (called once, when read). */
export type StreamInput =
  | Readable
  | AsyncIterable<Uint8Array | string>
  | (() => AsyncIterable<Uint8Array | string> | Promise<AsyncIterable<Uint8Array | string>>)

async function* asBytes(input: AsyncIterable<Uint8Array | string>): AsyncGenerator<Uint8Array> {
  for await (const chunk of input) yield typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk
}

/** The elements of a `--stdin-filename`, as restic files it (`a/b.txt` is `b.txt` in a directory `a`). */
export function streamPathElements(filename: string): string[] {
  const clean = goClean('/' + filename)
  const elements = clean.split('/').filter((e) => e !== '')
  if (elements.length === 0) throw new RusticError('InvalidInput', `invalid file name ${JSON.stringify(filename)} for a stream backup`)
  return elements
}

/**
 * One file read from a stream (restic's `backup --stdin`, with `--stdin-filename NAME`, default `stdin`).
 * Like restic 0.14, the file is `/NAME` with mode 0644, all times set to now, and the uid/gid of this
 * process (no owner names, inode or device); a NAME with slashes (`a/b.txt`) also yields its
 * directories (mode 0755, same times and owner). The content is read once; its size is unknown before.
 */
export class StreamSource implements ReadSource {
  /** The file's path elements (`['stdin']` by default). */
  readonly elements: readonly string[]
  private input: StreamInput | undefined

  /**
   * @param input - the bytes: a Node `Readable`, any `AsyncIterable` of chunks, or a function returning one.
   * @param filename - the name to store the file under.
   */
  constructor(input: StreamInput, filename = 'stdin') {
    this.elements = streamPathElements(filename)
    this.input = input
  }

  /** A source reading this process's standard input. */
  static stdin(filename = 'stdin'): StreamSource {
    return new StreamSource(process.stdin, filename)
  }

  /** The path restic records in the snapshot's `paths` (`/NAME`). */
  snapshotPaths(): string[] {
    return ['/' + this.elements.join('/')]
  }

  /** Unknown: a stream has no size before it is read. */
  async size(): Promise<SourceSize | undefined> {
    return undefined
  }

  /** The directories of the file name, then the file. */
  async *entries(): AsyncIterable<ReadSourceEntry> {
    const now = formatLocalGoTime(BigInt(Date.now()) * 1_000_000n)
    const uid = process.getuid?.() ?? 0
    const gid = process.getgid?.() ?? 0
    const base = (name: string): Pick<Node, 'name' | 'mtime' | 'atime' | 'ctime' | 'uid' | 'gid'> => ({
      name,
      mtime: now,
      atime: now,
      ctime: now,
      uid,
      gid,
    })
    let path = ''
    for (const dir of this.elements.slice(0, -1)) {
      path += '/' + dir
      yield { path, node: { ...base(dir), type: 'dir', mode: goModeFromUnix(0o040755, 'dir'), content: null } }
    }
    const name = this.elements[this.elements.length - 1]!
    path += '/' + name
    yield { path, node: { ...base(name), type: 'file', mode: goModeFromUnix(0o100644, 'file'), content: [] }, open: this.opener(path) }
  }

  private opener(path: string): ContentOpener {
    return async () => {
      const input = this.input
      if (input === undefined) throw new RusticError('InputOutput', `${path}: the stream was already read`, { code: 'AlreadyRead' })
      this.input = undefined
      return asBytes(typeof input === 'function' ? await input() : input)
    }
  }
}
