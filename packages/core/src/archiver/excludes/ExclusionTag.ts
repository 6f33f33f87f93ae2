import { lstat, open } from 'node:fs/promises'
import { RusticError } from '../../error/RusticError.js'

/** The `--exclude-caches` tag: a `CACHEDIR.TAG` file starting with the Cache Directory Tagging signature. */
export const CACHEDIR_TAG_SPEC = 'CACHEDIR.TAG:Signature: 8a477f597d28d172789f06886806bc55'

/** A parsed `--exclude-if-present` argument: a tag file name and, optionally, the header it must start with. */
export interface ExclusionTag {
  /** The tag file's name (no wildcards). */
  name: string
  /** The bytes the tag file must start with (none: its presence is enough). */
  header?: Uint8Array
}

/**
 * Parses restic's `--exclude-if-present` form `NAME[:HEADER]`, e.g. `.nobackup` or {@link CACHEDIR_TAG_SPEC}.
 * Throws `InvalidInput` for an empty name.
 */
export function parseExclusionTag(spec: string): ExclusionTag {
  if (spec === '') throw new RusticError('InvalidInput', 'name for exclusion tagfile is empty')
  const colon = spec.indexOf(':')
  if (colon === 0) throw new RusticError('InvalidInput', `no name for exclusion tagfile provided in "${spec}"`)
  if (colon < 0) return { name: spec }
  const header = Buffer.from(spec.slice(colon + 1), 'utf8')
  return header.length > 0 ? { name: spec.slice(0, colon), header } : { name: spec.slice(0, colon) }
}

/**
 * True if directory `dir` holds `tag` (and, if the tag has a header, the tag file starts with it), as
 * restic's `isDirExcludedByFile`: then everything in `dir` except the tag file itself is excluded.
 * A tag file that cannot be read, or with a wrong header, excludes nothing and is reported to `onWarning`.
 * @param dir - the directory path, as bytes (names need not be valid UTF-8).
 * @param names - the directory's entries (binary strings, as read), if already known: saves an `lstat`.
 */
export async function hasExclusionTag(
  dir: Buffer,
  tag: ExclusionTag,
  names?: ReadonlySet<string>,
  onWarning?: (message: string) => void,
): Promise<boolean> {
  const tagPath = Buffer.concat([dir, Buffer.from(dir.at(-1) === 0x2f ? '' : '/'), Buffer.from(tag.name, 'utf8')])
  const shown = (): string => tagPath.toString('utf8')
  if (names !== undefined) {
    if (!names.has(Buffer.from(tag.name, 'utf8').toString('latin1'))) return false
  } else {
    try {
      await lstat(tagPath)
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT' && (e as NodeJS.ErrnoException).code !== 'ENOTDIR') {
        onWarning?.(`could not access exclusion tagfile ${shown()}: ${(e as Error).message}`)
      }
      return false
    }
  }
  if (tag.header === undefined) return true
  let fh
  try {
    fh = await open(tagPath, 'r')
    const buf = Buffer.alloc(tag.header.length)
    let got = 0
    while (got < buf.length) {
      const { bytesRead } = await fh.read(buf, got, buf.length - got, got)
      if (bytesRead === 0) break
      got += bytesRead
    }
    if (got < buf.length) {
      onWarning?.(`invalid (too short) signature in exclusion tagfile ${shown()}`)
      return false
    }
    if (!buf.equals(tag.header)) {
      onWarning?.(`invalid signature in exclusion tagfile ${shown()}`)
      return false
    }
    return true
  } catch (e) {
    onWarning?.(`could not read signature from exclusion tagfile ${shown()}: ${(e as Error).message}`)
    return false
  } finally {
    await fh?.close()
  }
}
