import type { Id } from '../id/Id.js'
import type { CallOptions, FileWriter, WriteBackend } from './Backend.js'
import type { FileType } from './FileType.js'
import { ForwardingBackend } from './ForwardingBackend.js'

/**
 * A cold repository (e.g. cheap archive storage) paired with a hot one holding everything except
 * data packs, with rustic_core's rules (`hotcold.rs`):
 * - `location`, `list`, `listWithSize`, `needsWarmUp`, `warmUp`: cold.
 * - `readFull`: hot (for every type, including `config`: a rustic hot repository has its own config,
 *   marked `is_hot`; read the cold config through the cold backend itself).
 * - `readPartial`: hot if `cacheable` (tree packs) or not a pack, else cold.
 * - `create`: cold, then hot.
 * - `writeBytes`: to hot first unless it is the config or a non-cacheable (data) pack, then to cold.
 * - `remove`: cold first, then hot unless it is a non-cacheable pack.
 * - `openFileWriter` (when the cold backend has one): cold, for non-cacheable (data) packs only; other
 *   files resolve to undefined and are written with `writeBytes` to both.
 */
export class HotColdBackend extends ForwardingBackend {
  /**
   * @param cold - the full repository.
   * @param hot - the repository of metadata and tree packs.
   */
  constructor(
    cold: WriteBackend,
    readonly hot: WriteBackend,
  ) {
    super(cold)
  }

  /** The cold repository (the decorated backend). */
  get cold(): WriteBackend {
    return this.inner
  }

  /** Reads from the hot repository. */
  override readFull(type: FileType, id: Id, options?: CallOptions): Promise<Uint8Array> {
    return this.hot.readFull(type, id, options)
  }

  /** Reads cacheable files and non-packs from hot, data packs from cold. */
  override readPartial(
    type: FileType,
    id: Id,
    cacheable: boolean,
    offset: number,
    length: number,
    options?: CallOptions,
  ): Promise<Uint8Array> {
    const be = cacheable || type !== 'pack' ? this.hot : this.cold
    return be.readPartial(type, id, cacheable, offset, length, options)
  }

  /** Creates the cold, then the hot repository. */
  override async create(options?: CallOptions): Promise<void> {
    await this.cold.create(options)
    await this.hot.create(options)
  }

  /** Cleans up both repositories. */
  override async removeStaleTempFiles(olderThanMs: number, options?: CallOptions): Promise<number> {
    const cold = (await this.cold.removeStaleTempFiles?.(olderThanMs, options)) ?? 0
    return cold + ((await this.hot.removeStaleTempFiles?.(olderThanMs, options)) ?? 0)
  }

  /** Writes to hot (unless config or a data pack), then to cold. */
  override async writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array, options?: CallOptions): Promise<void> {
    if (type !== 'config' && (cacheable || type !== 'pack')) await this.hot.writeBytes(type, id, cacheable, data, options)
    await this.cold.writeBytes(type, id, cacheable, data, options)
  }

  /** Streams data packs to cold (they are not kept hot); anything else is left to `writeBytes`. */
  protected override forwardFileWriter(type: FileType, cacheable: boolean, options?: CallOptions): Promise<FileWriter | undefined> {
    return type === 'pack' && !cacheable ? super.forwardFileWriter(type, cacheable, options) : Promise.resolve(undefined)
  }

  /** Removes from cold, then from hot (unless a data pack). */
  override async remove(type: FileType, id: Id, cacheable: boolean, options?: CallOptions): Promise<void> {
    await this.cold.remove(type, id, cacheable, options)
    if (cacheable || type !== 'pack') await this.hot.remove(type, id, cacheable, options)
  }

  /** Closes both repositories. */
  override async close(): Promise<void> {
    await Promise.all([this.cold.close?.(), this.hot.close?.()])
  }
}
