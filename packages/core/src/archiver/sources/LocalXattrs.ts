import { isUtf8 } from 'node:buffer'
import type { ExtendedAttribute } from '../../repofile/Node.js'
import { isIgnoredXattrError, nativeXattrs, nativeXattrsUnavailable, type NativeXattrs } from '../../util/nativeXattrs.js'
import type { XattrProblem } from './DirectoryListing.js'
import type { XattrReader } from './LocalSourceOptions.js'

/** The options of `LocalSource` about extended attributes. */
export interface XattrOptions {
  readXattrs: boolean
  xattrReader?: XattrReader
  onWarning?: (message: string) => void
}

/** How a walk reads extended attributes (see {@link LocalXattrs.setup}). */
export interface XattrSetup {
  /** Reads an item's xattrs on this thread, for the items whose listing did not bring them; none: not read. */
  reader: XattrReader | undefined
  /** True if the directory worker reads them with its listings. */
  inWorker: boolean
}

/**
 * Reading the extended attributes of a local walk as restic 0.14 stores them: with the native
 * `@napi-rs/xattr` package (on the directory worker, or on the thread pool) or the user's `xattrReader`;
 * problems are warnings, and the item is backed up without them.
 */
export class LocalXattrs {
  /** Set once the warning that xattrs cannot be read here (no native package) was given. */
  private warnedUnavailable = false

  constructor(private readonly options: XattrOptions) {}

  /**
   * How a walk reads extended attributes: `reader` on this thread (the user's `xattrReader`, else one on
   * the native package), and whether the directory worker reads them with its listings (only with the
   * native package: a user's reader overrides it). Nothing when `readXattrs` is off; without the native
   * package (no binary for this platform) nothing either, and one warning.
   */
  setup(): XattrSetup {
    if (!this.options.readXattrs) return { reader: undefined, inWorker: false }
    if (this.options.xattrReader) return { reader: this.options.xattrReader, inWorker: false }
    const native = nativeXattrs()
    if (native === undefined) {
      if (!this.warnedUnavailable) {
        this.warnedUnavailable = true
        this.options.onWarning?.(`extended attributes are not backed up: ${nativeXattrsUnavailable() ?? 'no xattr support'}`)
      }
      return { reader: undefined, inWorker: false }
    }
    return { reader: (path) => this.readNative(native, path), inWorker: true }
  }

  /**
   * Reports problems reading the extended attributes of `shown`. The item is backed up without them:
   * restic 0.14 leaves out an item whose xattrs cannot be listed (`NodeFromFileInfo` fails), rustic keeps
   * it ("ignoring error obtaining xattrs"), as we do: its content matters more than its xattrs.
   */
  warn(shown: string, problems: readonly XattrProblem[]): void {
    const warn = this.options.onWarning
    if (warn === undefined) return
    for (const p of problems) {
      if (p.attribute === undefined) warn(`cannot read extended attributes of ${shown}: ${p.message}`)
      else warn(`cannot read extended attribute ${p.attribute} of ${shown}`)
    }
  }

  /**
   * Reads the extended attributes of `path` (bytes) on the thread pool as restic 0.14's
   * `fillExtendedAttributes` does: names in `llistxattr` order; `ENOTSUP`/`ENOATTR` from the listing
   * mean none (`handleXattrErr`); an attribute whose value cannot be read is left out with a warning
   * (restic prints "can not obtain extended attribute"). Throws if the listing fails otherwise, or if the
   * path is not valid UTF-8 (the package takes text: converting would name another file).
   */
  private async readNative(x: NativeXattrs, path: Buffer): Promise<ExtendedAttribute[]> {
    if (!isUtf8(path)) throw new Error('its path is not valid UTF-8')
    const text = path.toString('utf8')
    let names: string[]
    try {
      names = await x.listAttributes(text)
    } catch (e) {
      if (isIgnoredXattrError(e)) return []
      throw e
    }
    const attrs: ExtendedAttribute[] = []
    for (const name of names) {
      const value = await x.getAttribute(text, name)
      // null: an error, or the attribute went away since the listing (restic would store a null value)
      if (value === null) this.warn(text, [{ attribute: name, message: '' }])
      else attrs.push({ name, value })
    }
    return attrs
  }
}
