import { randomBytes } from 'node:crypto'
import { readFile as readFileCallback, type Dirent } from 'node:fs'
import { mkdir, open, readdir, rename, stat, unlink, type FileHandle } from 'node:fs/promises'
import { dirname, join, sep } from 'node:path'
import pLimit from 'p-limit'
import { z } from 'zod'
import {
  BackendError,
  CONFIG_ID,
  DEFAULT_LAYOUT,
  LayoutChoiceSchema,
  LayoutResolver,
  RusticError,
  hasIdName,
  isId,
  isRusticError,
  parseOptions,
  throwIfAborted,
} from '@rustic-ts/core'
import type { CallOptions, FileType, FileWriter, Id, LayoutName, ReadPartialOptions, WarningHandler, WriteBackend } from '@rustic-ts/core'
import { fsError } from './fsError.js'
import { runHook } from './runHook.js'

/** Options of {@link LocalBackend}, with defaults. */
export const LocalBackendOptionsSchema = z.object({
  /**
   * Command run (without a shell) after a file was written, like rustic's `post-create-command`;
   * `%file` (full path), `%type` (directory name, e.g. `data`) and `%id` are replaced in its arguments.
   */
  postCreateCommand: z.string().min(1).optional(),
  /** Command run after a file was removed; same placeholders as `postCreateCommand`. */
  postDeleteCommand: z.string().min(1).optional(),
  /** If true, a failing hook command fails the write/remove; otherwise it is reported to `onWarning`. Default false. */
  hookErrorsAreFatal: z.boolean().default(false),
  /** Receives warnings (failed hook commands). */
  onWarning: z.custom<WarningHandler>((v) => typeof v === 'function').optional(),
  /** How many files `listWithSize` stats at once. Default 64. */
  statConcurrency: z.number().int().min(1).max(1024).default(64),
  /** Whether writes fsync the file and its directory. Default true. */
  fsync: z.boolean().default(true),
  /**
   * The repository layout (restic's `-o local.layout`): `auto` (default) detects it on first use as
   * restic 0.14 does (`s3legacy` when `key/` holds a key file and `keys/` none, else `default`).
   */
  layout: LayoutChoiceSchema.default('auto'),
})

/** Options of {@link LocalBackend}; see {@link LocalBackendOptionsSchema} for defaults. */
export type LocalBackendOptions = z.input<typeof LocalBackendOptionsSchema>

const TEMP_MARK = '-tmp-'

/** Notes the temp files among a folder's entries (see `LocalBackend.removeStaleTempFiles`). */
function noteTemps(temps: Map<string, string[]>, dir: string, entries: readonly Dirent[]): void {
  const names = entries.filter((e) => e.isFile() && e.name.includes(TEMP_MARK)).map((e) => e.name)
  if (names.length > 0) temps.set(dir, names)
}

/**
 * A repository on a local (or mounted) filesystem, in restic's layout: `config`, `keys/`, `snapshots/`,
 * `index/`, `locks/`, `data/00..ff/`; or in the old `s3legacy` layout (`key/`, `snapshot/`, `index/`,
 * `lock/`, packs directly in `data/`), detected by itself as restic 0.14 does. Directories are created 0700 and files 0600; writes are atomic
 * (temp file in the same directory, fsync, rename, fsync of the directory).
 */
export class LocalBackend implements WriteBackend {
  private readonly opts: z.output<typeof LocalBackendOptionsSchema>
  private readonly statLimit: ReturnType<typeof pLimit>
  private readonly layouts: LayoutResolver
  /**
   * The temp files the last complete listing of the pack folders saw, by folder, and when it started:
   * `removeStaleTempFiles` reads them instead of listing the pack folders again (see there).
   */
  private packTemps: { at: number; root: string; byDir: Map<string, string[]> } | undefined

  /**
   * @param path - the repository directory.
   * @param options - hook commands and tuning.
   */
  constructor(
    readonly path: string,
    options: LocalBackendOptions = {},
  ) {
    if (path.length === 0) throw new RusticError('Configuration', 'the local repository path is empty')
    this.opts = parseOptions(LocalBackendOptionsSchema, options, 'local backend options')
    this.statLimit = pLimit(this.opts.statConcurrency)
    this.layouts = new LayoutResolver(this.opts.layout, (dir) => this.holdsIdFile(join(this.path, dir)))
  }

  /** The layout in use (`default` or `s3legacy`), detected on first use unless chosen in the options. */
  async layout(): Promise<LayoutName> {
    return (await this.layouts.get()).name
  }

  private async holdsIdFile(dir: string): Promise<boolean> {
    try {
      return hasIdName(await readdir(dir))
    } catch (err) {
      if (isMissing(err)) return false
      throw fsError(err, `cannot list ${dir}`)
    }
  }

  /** The full path of a file in the repository's layout. */
  private async pathOf(type: FileType, id: Id): Promise<string> {
    return join(this.path, (await this.layouts.get()).path(type, id))
  }

  /** `local:<path>`. */
  location(): string {
    return `local:${this.path}`
  }

  /**
   * The full path of a file, in the layout known so far: the chosen one, or the detected one once any
   * other method has run (before that, the default layout).
   */
  fullPath(type: FileType, id: Id): string {
    return join(this.path, (this.layouts.known ?? DEFAULT_LAYOUT).path(type, id))
  }

  /** The full path of a file in the repository's layout: its bytes are what `readPartial` reads (see `ReadBackend.localPath`). */
  async localPath(type: FileType, id: Id, options?: CallOptions): Promise<string> {
    throwIfAborted(options?.signal)
    return this.pathOf(type, id)
  }

  private what(type: FileType, id: Id): string {
    return type === 'config' ? `config at ${this.fullPath(type, id)}` : `${type} ${id} at ${this.fullPath(type, id)}`
  }

  /**
   * Creates the repository directory and all subdirectories of its layout (in the default layout
   * including the 256 `data/xx`). Idempotent.
   */
  async create(options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal)
    const layout = await this.layouts.get()
    await this.mkdir(this.path)
    const dirs = layout.dirs().map((d) => join(this.path, d))
    for (const d of dirs) if (dirname(d) === this.path) await this.mkdir(d)
    await Promise.all(dirs.filter((d) => dirname(d) !== this.path).map((d) => this.mkdir(d)))
  }

  private async mkdir(dir: string): Promise<void> {
    try {
      await makeDirs(dir, 0o700)
    } catch (err) {
      throw fsError(err, `cannot create directory ${dir}`)
    }
  }

  /** Ids of all files of a type; `[]` if its directory is missing. Ignores temp files and other names. */
  async list(type: FileType, options?: CallOptions): Promise<Id[]> {
    return (await this.listPaths(type, options)).map(([id]) => id)
  }

  private async listPaths(type: FileType, options?: CallOptions): Promise<Array<[Id, string]>> {
    throwIfAborted(options?.signal)
    const layout = await this.layouts.get()
    if (type === 'config') {
      const p = join(this.path, layout.path('config', CONFIG_ID))
      try {
        const s = await stat(p)
        return s.isFile() ? [[CONFIG_ID, p]] : []
      } catch (err) {
        if (isMissing(err)) return []
        throw fsError(err, `cannot stat ${p}`)
      }
    }
    const dir = join(this.path, layout.dir(type))
    if (type !== 'pack') return this.listDir(dir)
    // the temp files of the pack folders are noted on the way, for removeStaleTempFiles
    const at = Date.now()
    const temps = new Map<string, string[]>()
    if (!layout.packSubdirs) {
      const files = await this.listDir(dir, temps)
      this.packTemps = { at, root: dir, byDir: temps }
      return files
    }
    let subdirs: string[]
    try {
      const entries = await readdir(dir, { withFileTypes: true })
      subdirs = entries.filter((e) => e.isDirectory()).map((e) => e.name)
      noteTemps(temps, dir, entries)
    } catch (err) {
      if (isMissing(err)) return []
      throw fsError(err, `cannot list ${dir}`)
    }
    const result: Array<[Id, string]> = []
    const limit = pLimit(16)
    const parts = await Promise.all(
      subdirs.map((s) =>
        limit(() => {
          throwIfAborted(options?.signal)
          return this.listDir(join(dir, s), temps)
        }),
      ),
    )
    for (const p of parts) for (const e of p) result.push(e)
    this.packTemps = { at, root: dir, byDir: temps }
    return result
  }

  /** The id files of a folder; with `temps`, notes its temp files there too. */
  private async listDir(dir: string, temps?: Map<string, string[]>): Promise<Array<[Id, string]>> {
    try {
      const entries = await readdir(dir, { withFileTypes: true })
      const out: Array<[Id, string]> = []
      for (const e of entries) if (e.isFile() && isId(e.name)) out.push([e.name, join(dir, e.name)])
      if (temps) noteTemps(temps, dir, entries)
      return out
    } catch (err) {
      if (isMissing(err)) return []
      throw fsError(err, `cannot list ${dir}`)
    }
  }

  /** Ids and sizes of all files of a type (files removed while listing are left out). */
  async listWithSize(type: FileType, options?: CallOptions): Promise<Array<[Id, number]>> {
    const files = await this.listPaths(type, options)
    const sizes = await Promise.all(
      files.map(([id, p]) =>
        this.statLimit(async (): Promise<[Id, number] | undefined> => {
          throwIfAborted(options?.signal)
          try {
            return [id, (await stat(p)).size]
          } catch (err) {
            if (isMissing(err)) return undefined
            throw fsError(err, `cannot stat ${p}`)
          }
        }),
      ),
    )
    return sizes.filter((x): x is [Id, number] => x !== undefined)
  }

  /** A whole file; throws `NotFound` if missing. */
  async readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    throwIfAborted(options?.signal)
    if (type !== 'pack') return this.#readSmall(type, id, options)
    let fh
    try {
      fh = await open(await this.pathOf(type, id), 'r')
    } catch (err) {
      throw fsError(err, `cannot read ${this.what(type, id)}`)
    }
    try {
      // one read of the whole file (fs.readFile reads in 512 KiB pieces, which is slower for packs)
      const size = (await fh.stat()).size
      const buf = Buffer.allocUnsafeSlow(size)
      let done = 0
      while (done < size) {
        throwIfAborted(options?.signal)
        const { bytesRead } = await fh.read(buf, done, size - done, done)
        if (bytesRead === 0) break
        done += bytesRead
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, done)
    } catch (err) {
      if (isRusticError(err)) throw err
      throw fsError(err, `cannot read ${this.what(type, id)}`)
    } finally {
      await fh.close().catch(() => {})
    }
  }

  /**
   * A whole file that is not a pack (snapshot, index, key, lock, config: small, unpacked) through one
   * `fs.readFile`, which costs about half the CPU of the four promise round trips of a pack's read (open,
   * stat, read, close): listing 1,000 snapshots reads 1,000 such files.
   */
  async #readSmall(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    const path = await this.pathOf(type, id)
    try {
      const buf = await new Promise<Buffer>((resolve, reject) =>
        readFileCallback(path, { signal: options?.signal }, (err, data) => (err ? reject(err) : resolve(data))),
      )
      return new Uint8Array(buf.buffer, buf.byteOffset, buf.length)
    } catch (err) {
      throwIfAborted(options?.signal)
      throw fsError(err, `cannot read ${this.what(type, id)}`)
    }
  }

  /** Exactly `length` bytes from `offset`; throws `Invalid` if the file is shorter. */
  async readPartial(
    type: FileType,
    id: Id,
    _cacheable: boolean,
    offset: number,
    length: number,
    options?: ReadPartialOptions,
  ): Promise<Uint8Array> {
    throwIfAborted(options?.signal)
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0) {
      throw new BackendError('Invalid', `invalid range (offset ${offset}, length ${length}) for ${this.what(type, id)}`)
    }
    const p = await this.pathOf(type, id)
    let fh
    try {
      fh = await open(p, 'r')
    } catch (err) {
      throw fsError(err, `cannot read ${this.what(type, id)}`)
    }
    try {
      const into = options?.into
      const buf = into !== undefined && into.length >= length ? into : Buffer.allocUnsafe(length)
      let done = 0
      while (done < length) {
        throwIfAborted(options?.signal)
        const { bytesRead } = await fh.read(buf, done, length - done, offset + done)
        if (bytesRead === 0) {
          const size = (await fh.stat()).size
          throw new BackendError(
            'Invalid',
            `cannot read ${length} bytes at offset ${offset} of ${this.what(type, id)}: the file is only ${size} bytes long`,
          )
        }
        done += bytesRead
      }
      return new Uint8Array(buf.buffer, buf.byteOffset, length)
    } catch (err) {
      if (isRusticError(err)) throw err
      throw fsError(err, `cannot read ${this.what(type, id)}`)
    } finally {
      await fh.close().catch(() => {})
    }
  }

  /** Writes a file atomically (temp file, fsync, rename, fsync of the directory); overwrites. */
  async writeBytes(type: FileType, id: Id, _cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal)
    const dir = dirname(await this.pathOf(type, id))
    const { fh, tmp } = await this.openTemp(dir, type === 'config' ? 'config' : id, `cannot write ${this.what(type, id)}`)
    try {
      await writeAll(fh, data, options?.signal)
    } catch (err) {
      await fh.close().catch(() => {})
      await unlink(tmp).catch(() => {})
      throw isRusticError(err) ? err : fsError(err, `cannot write ${this.what(type, id)}`)
    }
    await this.store(fh, tmp, type, id, options?.signal)
  }

  /**
   * A file written piece by piece into a temp file in its type's directory (a random `data/xx/` for packs),
   * renamed into place by `commit` (with the same fsync and hook as {@link LocalBackend.writeBytes}).
   */
  async openFileWriter(type: FileType, _cacheable: boolean, options?: CallOptions): Promise<FileWriter | undefined> {
    throwIfAborted(options?.signal)
    if (type === 'config') return undefined
    const what = `a new ${type} file in ${this.path}`
    const layout = await this.layouts.get()
    // a pack's temp file goes into one of the data/xx directories (data/ itself in the s3legacy layout), where
    // restic's and our listings skip names that are no ids
    const sub = type === 'pack' && layout.packSubdirs ? randomBytes(1).toString('hex') : ''
    const dir = join(this.path, layout.dir(type), sub)
    const { fh, tmp } = await this.openTemp(dir, 'new', `cannot write ${what}`)
    let open = true
    const drop = async (): Promise<void> => {
      if (!open) return
      open = false
      await fh.close().catch(() => {})
      await unlink(tmp).catch(() => {})
    }
    return {
      write: async (data) => {
        try {
          await writeAll(fh, data, options?.signal)
        } catch (err) {
          await drop()
          throw isRusticError(err) ? err : fsError(err, `cannot write ${what}`)
        }
      },
      commit: async (id) => {
        open = false
        await this.store(fh, tmp, type, id, options?.signal)
      },
      abort: drop,
    }
  }

  /** Opens a new temp file `<name>-tmp-<random>` in `dir` (made if missing). */
  private async openTemp(dir: string, name: string, failure: string): Promise<{ fh: FileHandle; tmp: string }> {
    const tmp = join(dir, `${name}${TEMP_MARK}${randomBytes(6).toString('hex')}`)
    try {
      return { fh: await open(tmp, 'wx', 0o600), tmp }
    } catch (err) {
      if (!isMissing(err)) throw fsError(err, failure)
      // The directory is missing (e.g. a data/xx dir of a repository made elsewhere): make it and retry.
      await this.mkdir(dir)
      try {
        return { fh: await open(tmp, 'wx', 0o600), tmp }
      } catch (err2) {
        throw fsError(err2, failure)
      }
    }
  }

  /** Syncs and closes a written temp file and renames it to the file `type`/`id` (atomic); runs the post-create hook. */
  private async store(fh: FileHandle, tmp: string, type: FileType, id: Id, signal: AbortSignal | undefined): Promise<void> {
    const final = await this.pathOf(type, id)
    let renamed = false
    try {
      try {
        if (this.opts.fsync) await fh.sync()
      } finally {
        await fh.close()
      }
      throwIfAborted(signal)
      try {
        await rename(tmp, final)
      } catch (err) {
        if (!isMissing(err) || dirname(tmp) === dirname(final)) throw err
        await this.mkdir(dirname(final)) // a data/xx directory that does not exist yet
        await rename(tmp, final)
      }
      renamed = true
      if (this.opts.fsync) await syncDir(dirname(final))
    } catch (err) {
      if (!renamed) await unlink(tmp).catch(() => {})
      if (isRusticError(err)) throw err
      throw fsError(err, `cannot write ${this.what(type, id)}`)
    }
    if (this.opts.postCreateCommand !== undefined) await this.hook(this.opts.postCreateCommand, type, id, 'post-create command')
  }

  /**
   * Removes the temp files (`<name>-tmp-<random>`, as this backend and restic's name them) of writes that
   * never finished, in every folder of the layout, when their last change is older than `olderThanMs`.
   * A write in progress changes its temp file as it goes, so only the leftovers of killed processes are
   * that old. Returns how many were removed.
   *
   * The pack folders (257 with restic's layout) are not listed again when a listing of the packs (`list`
   * or `listWithSize`) started less than `olderThanMs` ago: the temp files it saw are looked at instead. A
   * temp file made since then is younger than `olderThanMs`, so it would not be removed anyway.
   */
  async removeStaleTempFiles(olderThanMs: number, options?: CallOptions): Promise<number> {
    throwIfAborted(options?.signal)
    const layout = await this.layouts.get()
    const now = Date.now()
    const cutoff = now - olderThanMs
    const dirs = ['', ...layout.dirs()].map((d) => join(this.path, d))
    const seen = this.packTemps !== undefined && now - this.packTemps.at < olderThanMs ? this.packTemps : undefined
    let removed = 0
    const limit = pLimit(16)
    await Promise.all(
      dirs.map((dir) =>
        limit(async () => {
          throwIfAborted(options?.signal)
          let names: string[]
          try {
            if (seen !== undefined && (dir === seen.root || dir.startsWith(seen.root + sep))) names = seen.byDir.get(dir) ?? []
            else names = (await readdir(dir, { withFileTypes: true })).filter((e) => e.isFile() && e.name.includes(TEMP_MARK)).map((e) => e.name)
          } catch (err) {
            if (isMissing(err)) return
            throw fsError(err, `cannot list ${dir}`)
          }
          for (const name of names) {
            const p = join(dir, name)
            try {
              if ((await stat(p)).mtimeMs >= cutoff) continue
              await unlink(p)
              removed++
            } catch (err) {
              if (!isMissing(err)) throw fsError(err, `cannot remove the temporary file ${p}`)
            }
          }
        }),
      ),
    )
    return removed
  }

  /** Removes a file; throws `NotFound` if missing. */
  async remove(type: FileType, id: Id, _cacheable: boolean, options?: CallOptions): Promise<void> {
    throwIfAborted(options?.signal)
    try {
      await unlink(await this.pathOf(type, id))
    } catch (err) {
      throw fsError(err, `cannot remove ${this.what(type, id)}`)
    }
    if (this.opts.postDeleteCommand !== undefined) await this.hook(this.opts.postDeleteCommand, type, id, 'post-delete command')
  }

  private async hook(command: string, type: FileType, id: Id, what: string): Promise<void> {
    try {
      await runHook(command, { file: this.fullPath(type, id), type: (this.layouts.known ?? DEFAULT_LAYOUT).dir(type), id }, `${what} for ${type} ${id}`)
    } catch (err) {
      if (this.opts.hookErrorsAreFatal) throw err
      this.opts.onWarning?.((err as Error).message, err)
    }
  }
}

/**
 * `mkdir -p`. Not Node's recursive `mkdir`: that reports `ENOENT` where a missing parent cannot be made
 * (`EROFS`, `EACCES`), and never returns under `/proc`; this reports the error of the directory that
 * could not be made.
 */
async function makeDirs(dir: string, mode: number): Promise<void> {
  const existing = async (err: unknown): Promise<void> => {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || !(await stat(dir).then((s) => s.isDirectory(), () => false))) throw err
  }
  try {
    await mkdir(dir, { mode })
    return
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') return existing(err)
    const parent = dirname(dir)
    if (parent === dir) throw err
    await makeDirs(parent, mode)
  }
  try {
    await mkdir(dir, { mode })
  } catch (err) {
    await existing(err)
  }
}

function isMissing(err: unknown): boolean {
  const code = (err as NodeJS.ErrnoException | undefined)?.code
  return code === 'ENOENT' || code === 'ENOTDIR'
}

async function syncDir(dir: string): Promise<void> {
  let fh
  try {
    fh = await open(dir, 'r')
  } catch {
    return // some platforms cannot open directories; the rename is still atomic
  }
  try {
    await fh.sync()
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    if (code !== 'EINVAL' && code !== 'ENOTSUP' && code !== 'EBADF' && code !== 'EISDIR') throw err
  } finally {
    await fh.close().catch(() => {})
  }
}

/** Writes all of `data` at the file's position. */
async function writeAll(fh: FileHandle, data: Uint8Array, signal: AbortSignal | undefined): Promise<void> {
  let done = 0
  while (done < data.length) {
    throwIfAborted(signal)
    const { bytesWritten } = await fh.write(data, done, Math.min(data.length - done, 1 << 24))
    done += bytesWritten
  }
}
