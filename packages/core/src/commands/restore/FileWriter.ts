import { close, closeSync, constants, ftruncate, ftruncateSync, open, openSync, write, writeSync } from 'node:fs'
import { promisify } from 'node:util'
import type { FileMetadata } from '../../workers/restore.protocol.js'
import { openNewFile } from '../../workers/openNewFile.js'
import { setFdMetadata } from '../../workers/setFdMetadata.js'
import type { FsPath } from './fsPath.js'

/** A file the {@link FileWriter} writes into. */
export interface WriterFile {
  /** Where it is. */
  path: FsPath
  /** Its final size. */
  size: number
  /** True: create (or truncate) it on first open; false: change the existing file in place. */
  create: boolean
  /** How many writes will come (the file is closed after the last). */
  writes: number
}

interface State {
  /** The open descriptor, or a promise of it while it opens. */
  fd: number | Promise<number> | undefined
  /** Writes in progress on the open descriptor. */
  busy: number
  /** Writes still to come. */
  remaining: number
  /** Set once the file was created/truncated to its size. */
  prepared: boolean
}

const CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_NOFOLLOW
const REOPEN = constants.O_WRONLY | constants.O_NOFOLLOW
/** Files up to this size are written with synchronous calls: no thread-pool round trips for small files. */
const SYNC_FILE_SIZE = 0

const openAsync = promisify(open)
const closeAsync = promisify(close)
const truncateAsync = promisify(ftruncate)
const writeAsync = (fd: number, data: Uint8Array, off: number, len: number, pos: number): Promise<number> =>
  new Promise((resolve, reject) => write(fd, data, off, len, pos, (err, n) => (err ? reject(err) : resolve(n))))

/**
 * Positioned writes into many files at once: opens each file on its first write (creating or
 * truncating it to its final size, never following a symlink), keeps it open while more writes for it
 * are due, and closes it after the last one. At most `maxOpen` files are kept open; idle ones are closed
 * (least recently used first) and reopened when needed. Small files are written with synchronous calls
 * (cheaper than a thread-pool round trip per call), large ones asynchronously.
 */
export class FileWriter {
  /** By file, made on its first use (a restore of many files done by workers uses few of them). */
  private readonly states: Array<State | undefined> = []
  private open = 0
  /** Open files with no write in progress, least recently used first. */
  private readonly idle = new Set<number>()

  /**
   * @param fileAt - the files, by index.
   * @param maxOpen - most files kept open at once.
   * @param sparse - preallocate every file to its size (writes may be skipped, leaving holes).
   */
  constructor(
    /** File `index`: made when needed, not held (see {@link WriterFile}). */
    private readonly fileAt: (index: number) => WriterFile,
    private readonly maxOpen: number,
    private readonly sparse = false,
  ) {}

  private state(index: number): State {
    let st = this.states[index]
    if (st === undefined) this.states[index] = st = { fd: undefined, busy: 0, remaining: this.fileAt(index).writes, prepared: false }
    return st
  }

  /**
   * Writes `data` at `offset` of file `index` (or, with `skip`, only counts the write: the range stays
   * a hole of the preallocated file).
   */
  async write(index: number, data: Uint8Array, offset: number, skip = false): Promise<void> {
    const st = this.state(index)
    const f = this.fileAt(index)
    if (f.size <= SYNC_FILE_SIZE && st.busy === 0 && !(st.fd instanceof Promise)) {
      // small file: the whole write synchronously
      const fd = this.openSync(index)
      try {
        if (!skip) {
          let done = 0
          while (done < data.length) done += writeSync(fd, data, done, data.length - done, offset + done)
        }
      } finally {
        st.remaining--
      }
      if (st.remaining <= 0) this.closeNow(index)
      else {
        this.idle.add(index)
        await this.evict()
      }
      return
    }
    st.busy++
    this.idle.delete(index)
    try {
      const fd = await this.fd(index)
      if (!skip) {
        let done = 0
        while (done < data.length) done += await writeAsync(fd, data, done, data.length - done, offset + done)
      }
    } finally {
      st.busy--
      st.remaining--
    }
    if (st.busy > 0) return
    if (st.remaining <= 0) await this.close(index)
    else {
      if (st.fd !== undefined) this.idle.add(index)
      await this.evict()
    }
  }

  /**
   * Creates or truncates empty file `index` with synchronous calls (open, and close: no thread-pool round
   * trips), keeping nothing about it; with `meta`, sets its owner, mode and times on the descriptor it was
   * opened with. Returns true if they were set.
   */
  prepareEmpty(index: number, meta?: FileMetadata): boolean {
    const f = this.fileAt(index)
    const { fd, created } = f.create ? openNewFile(f.path, meta) : { fd: openSync(f.path, REOPEN | constants.O_TRUNC), created: false }
    try {
      return meta !== undefined && setFdMetadata(fd, meta, created)
    } finally {
      closeSync(fd)
    }
  }

  /** Creates or truncates file `index` to its size without writing (a change that only truncates). */
  async prepareOnly(index: number): Promise<void> {
    const st = this.state(index)
    st.busy++
    try {
      await this.fd(index)
    } finally {
      st.busy--
    }
    await this.close(index)
  }

  /** Closes every open file. */
  async closeAll(): Promise<void> {
    const open: number[] = []
    this.states.forEach((st, i) => st?.fd !== undefined && open.push(i))
    await Promise.all(open.map((i) => this.close(i)))
  }

  /** Whether the file must be truncated to its size when first opened. */
  private needsTruncate(f: WriterFile): boolean {
    // a new file written by exactly one blob gets its size from that write, a new empty one from its creation
    if (f.create && f.size === 0) return false
    return !f.create || f.writes !== 1 || this.sparse
  }

  /** Opens file `index` synchronously (it is not open). */
  private openSync(index: number): number {
    const st = this.state(index)
    const f = this.fileAt(index)
    if (typeof st.fd === 'number') return st.fd
    const fd = openSync(f.path, st.prepared || !f.create ? REOPEN : CREATE, 0o600)
    if (!st.prepared) {
      try {
        if (this.needsTruncate(f)) ftruncateSync(fd, f.size)
      } catch (e) {
        closeSync(fd)
        throw e
      }
      st.prepared = true
    }
    st.fd = fd
    this.open++
    return fd
  }

  private fd(index: number): Promise<number> {
    const st = this.state(index)
    if (typeof st.fd === 'number') return Promise.resolve(st.fd)
    if (st.fd) return st.fd
    const f = this.fileAt(index)
    this.open++
    const p = (async () => {
      const fd = await openAsync(f.path, st.prepared || !f.create ? REOPEN : CREATE, 0o600)
      if (!st.prepared) {
        try {
          if (this.needsTruncate(f)) await truncateAsync(fd, f.size)
        } catch (e) {
          await closeAsync(fd)
          throw e
        }
        st.prepared = true
      }
      return fd
    })()
    st.fd = p
    p.then(
      (fd) => {
        if (st.fd === p) st.fd = fd // else close() took it over and closes it
      },
      () => {
        if (st.fd !== p) return
        st.fd = undefined
        this.open--
      },
    )
    return p
  }

  /** Closes a file that is open (not opening) synchronously. */
  private closeNow(index: number): void {
    const st = this.state(index)
    this.idle.delete(index)
    if (typeof st.fd !== 'number') return
    const fd = st.fd
    st.fd = undefined
    this.open--
    closeSync(fd)
  }

  private async close(index: number): Promise<void> {
    const st = this.state(index)
    this.idle.delete(index)
    const h = st.fd
    if (h === undefined) return
    st.fd = undefined
    this.open--
    const fd = await Promise.resolve(h).catch(() => undefined)
    if (fd !== undefined) await closeAsync(fd)
  }

  /** Closes idle files, least recently used first, while more than `maxOpen` are open. */
  private async evict(): Promise<void> {
    const closing: Promise<void>[] = []
    for (const i of this.idle) {
      if (this.open <= this.maxOpen) break
      closing.push(this.close(i)) // takes it off `idle` and lowers `open` at once
    }
    await Promise.all(closing)
  }
}
