import { grow } from '../../util/growArray.js'
import type { PlannedFile } from './RestorePlan.js'

/**
 * The files of a restore plan whose content restore writes ({@link RestorePlan.files}), held compactly:
 * typed arrays by file (entry, size, new or existing, number of blob writes), about 17 bytes a file.
 * The accessors read one field; {@link PlannedFiles.at} and iterating make {@link PlannedFile} objects.
 */
export class PlannedFiles implements Iterable<PlannedFile> {
  #n = 0
  #entry = new Int32Array(0)
  #size = new Float64Array(0)
  #create = new Uint8Array(0)
  #writes = new Uint32Array(0)

  /** Number of files. */
  get length(): number {
    return this.#n
  }

  /** @internal Adds a file (made by `planRestore`) with no writes yet; returns its index. */
  add(entry: number, size: number, create: boolean): number {
    const i = this.#n++
    if (i === this.#entry.length) {
      const cap = Math.max(1024, i * 2)
      this.#entry = grow(this.#entry, cap)
      this.#size = grow(this.#size, cap)
      this.#create = grow(this.#create, cap)
      this.#writes = grow(this.#writes, cap)
    }
    this.#entry[i] = entry
    this.#size[i] = size
    this.#create[i] = create ? 1 : 0
    return i
  }

  /** @internal Counts one more blob write into file `i`. */
  addWrite(i: number): void {
    this.#writes[i]!++
  }

  /** @internal Counts `n` more blob writes into file `i`. */
  addWrites(i: number, n: number): void {
    this.#writes[i]! += n
  }

  /** @internal Sets file `i`'s final size. */
  setSize(i: number, size: number): void {
    this.#size[i] = size
  }

  /** Index of file `i`'s entry in {@link RestorePlan.entries}. */
  entry(i: number): number {
    return this.#entry[i]!
  }

  /** Final size of file `i` in bytes. */
  size(i: number): number {
    return this.#size[i]!
  }

  /** True if file `i` is new (created, truncated), false for an existing file changed in place. */
  create(i: number): boolean {
    return this.#create[i] === 1
  }

  /** Number of blob writes into file `i`. */
  writes(i: number): number {
    return this.#writes[i]!
  }

  /** File `i` as an object; a `RangeError` if there is none. */
  at(i: number): PlannedFile {
    if (!Number.isInteger(i) || i < 0 || i >= this.#n) throw new RangeError(`no planned file ${i} (the plan has ${this.#n})`)
    return { entry: this.entry(i), size: this.size(i), create: this.create(i), writes: this.writes(i) }
  }

  /** The files in order, as objects. */
  *[Symbol.iterator](): Iterator<PlannedFile> {
    for (let i = 0; i < this.#n; i++) yield this.at(i)
  }
}
