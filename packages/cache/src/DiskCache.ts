import { randomBytes } from 'node:crypto'
import { mkdir, open, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { FILE_TYPE_DIR, isId } from '@rustic-ts/core'
import type { FileType, Id } from '@rustic-ts/core'
import { ensureCacheDirTag } from './cacheDirTag.js'

/** Temp files older than this are removed when a type directory is pruned. */
const STALE_TEMP_MS = 60 * 60 * 1000

/**
 * The files of one repository's on-disk cache, laid out as rustic does:
 * `<dir>/<snapshots|index|keys|data>/<id[0:2]>/<id>`. Directories are made 0700, files 0600, and every
 * write goes to a temp file that is renamed into place. Methods throw Node's file system errors; a
 * missing entry is `undefined`, not an error. Contents are not checked here.
 */
export class DiskCache {
  /** @param dir - the repository's cache directory (gets a `CACHEDIR.TAG`). */
  constructor(readonly dir: string) {}

  /** Creates the cache directory and its `CACHEDIR.TAG`. */
  async init(): Promise<void> {
    await mkdir(this.dir, { recursive: true, mode: 0o700 })
    await ensureCacheDirTag(this.dir)
  }

  /** The path of an entry. */
  path(type: FileType, id: Id): string {
    return join(this.dir, FILE_TYPE_DIR[type], id.slice(0, 2), id)
  }

  /** A whole entry, or `undefined` if it is not cached. */
  async read(type: FileType, id: Id): Promise<Uint8Array | undefined> {
    try {
      const buf = await readFile(this.path(type, id))
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength)
    } catch (err) {
      if (isMissing(err)) return undefined
      throw err
    }
  }

  /**
   * `length` bytes at `offset` of an entry; `undefined` if it is not cached, `null` if it is shorter
   * than `offset + length`.
   */
  async readRange(type: FileType, id: Id, offset: number, length: number): Promise<Uint8Array | undefined | null> {
    let fh
    try {
      fh = await open(this.path(type, id), 'r')
    } catch (err) {
      if (isMissing(err)) return undefined
      throw err
    }
    try {
      const out = new Uint8Array(length)
      let done = 0
      while (done < length) {
        const { bytesRead } = await fh.read(out, done, length - done, offset + done)
        if (bytesRead === 0) return null
        done += bytesRead
      }
      return out
    } finally {
      await fh.close()
    }
  }

  /** Stores an entry atomically (temp file in the same directory, then rename). */
  async write(type: FileType, id: Id, data: Uint8Array): Promise<void> {
    const path = this.path(type, id)
    const dir = join(this.dir, FILE_TYPE_DIR[type], id.slice(0, 2))
    await mkdir(dir, { recursive: true, mode: 0o700 })
    const tmp = join(dir, `.tmp-${id}-${randomBytes(6).toString('hex')}`)
    try {
      await writeFile(tmp, data, { mode: 0o600, flag: 'wx' })
      await rename(tmp, path)
    } catch (err) {
      await unlink(tmp).catch(() => {})
      throw err
    }
  }

  /** Removes an entry; a missing one is fine. */
  async remove(type: FileType, id: Id): Promise<void> {
    try {
      await unlink(this.path(type, id))
    } catch (err) {
      if (!isMissing(err)) throw err
    }
  }

  /**
   * Entries of a type with their sizes. Also removes temp files left by interrupted writes more than
   * an hour ago.
   */
  async list(type: FileType): Promise<Map<Id, number>> {
    const out = new Map<Id, number>()
    const typeDir = join(this.dir, FILE_TYPE_DIR[type])
    let subdirs: string[]
    try {
      subdirs = await readdir(typeDir)
    } catch (err) {
      if (isMissing(err)) return out
      throw err
    }
    const now = Date.now()
    for (const sub of subdirs) {
      if (!/^[0-9a-f]{2}$/.test(sub)) continue
      let names: string[]
      try {
        names = await readdir(join(typeDir, sub))
      } catch (err) {
        if (isMissing(err)) continue
        throw err
      }
      for (const name of names) {
        const p = join(typeDir, sub, name)
        if (isId(name)) {
          try {
            const st = await stat(p)
            if (st.isFile()) out.set(name, st.size)
          } catch (err) {
            if (!isMissing(err)) throw err
          }
        } else if (name.startsWith('.tmp-')) {
          const st = await stat(p).catch(() => undefined)
          if (st !== undefined && now - st.mtimeMs > STALE_TEMP_MS) await unlink(p).catch(() => {})
        }
      }
    }
    return out
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT'
}
