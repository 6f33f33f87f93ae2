import { createRequire } from 'node:module'
import { constants, platform } from 'node:os'
import { nativeModuleUnavailable } from './nativeModule.js'

/**
 * The functions of the native `@napi-rs/xattr` package used here. Paths are UTF-8 strings; no call
 * follows a symlink (they use `llistxattr`, `lgetxattr`, `lsetxattr`). Failures throw an `Error` whose
 * message ends in `(os error N)`; the getters return `null` for a missing attribute and for any error.
 */
export interface NativeXattrs {
  /** The names of `path`'s extended attributes, in the file system's order (`llistxattr`). */
  listAttributesSync(path: string): string[]
  /** {@link NativeXattrs.listAttributesSync} on the thread pool. */
  listAttributes(path: string): Promise<string[]>
  /** The value of attribute `name`, or `null` if it is missing or cannot be read. */
  getAttributeSync(path: string, name: string): Buffer | null
  /** {@link NativeXattrs.getAttributeSync} on the thread pool. */
  getAttribute(path: string, name: string): Promise<Buffer | null>
  /** Creates or replaces attribute `name`. */
  setAttributeSync(path: string, name: string, value: Uint8Array): void
}

const PACKAGE = '@napi-rs/xattr'

let loaded: { module: NativeXattrs } | { error: string } | undefined

function load(): { module: NativeXattrs } | { error: string } {
  if (loaded === undefined) {
    try {
      // the name is written out (not PACKAGE) so that tools listing what the built files load see it
      const m = createRequire(import.meta.url)('@napi-rs/xattr') as Partial<NativeXattrs>
      if (typeof m.listAttributesSync !== 'function' || typeof m.getAttributeSync !== 'function' || typeof m.setAttributeSync !== 'function') {
        throw new Error('unexpected exports')
      }
      loaded = { module: m as NativeXattrs }
    } catch (e) {
      loaded = { error: nativeModuleUnavailable(PACKAGE, e) }
    }
  }
  return loaded
}

/** The native xattr functions (loaded on first use), or `undefined` where the package has no binary for this platform. */
export function nativeXattrs(): NativeXattrs | undefined {
  const l = load()
  return 'module' in l ? l.module : undefined
}

/** Why {@link nativeXattrs} is `undefined` (for a warning); `undefined` if the package loads. */
export function nativeXattrsUnavailable(): string | undefined {
  const l = load()
  return 'error' in l ? l.error : undefined
}

/**
 * The absolute path of the package's entry module, for the directory worker to `require` (so that it
 * loads the file this thread would); `undefined` if it cannot be found. Resolving does not load the
 * package: a worker that cannot load it reads no xattrs (see `DirectoryWorker`).
 */
export function nativeXattrsModulePath(): string | undefined {
  try {
    return createRequire(import.meta.url).resolve('@napi-rs/xattr')
  } catch {
    return undefined
  }
}

const errno = constants.errno as Partial<Record<string, number>>

/** `ENOTSUP`/`EOPNOTSUPP`: the file system (or the attribute's namespace) has no extended attributes. */
const UNSUPPORTED = [errno['ENOTSUP'], errno['EOPNOTSUPP']].filter((n): n is number => n !== undefined)

/** pkg/xattr's `ENOATTR`: `ENODATA` on Linux, `ENOATTR` (not in Node's table) on macOS and FreeBSD. */
const NO_ATTRIBUTE = platform() === 'linux' ? errno['ENODATA'] : platform() === 'darwin' ? 93 : platform() === 'freebsd' ? 87 : undefined

/**
 * The errors restic 0.14 ignores when reading extended attributes (`handleXattrErr` in
 * `internal/restic/node_xattr.go`: `ENOTSUP` and `ENOATTR`, which SMB/CIFS mounts return instead): as
 * errno numbers.
 */
export const IGNORED_XATTR_ERRNOS: readonly number[] = NO_ATTRIBUTE === undefined ? UNSUPPORTED : [...UNSUPPORTED, NO_ATTRIBUTE]

/** The errno of an error the package threw (its message ends in `(os error N)`), if it has one. */
export function xattrErrno(e: unknown): number | undefined {
  const m = /\(os error (\d+)\)$/.exec(e instanceof Error ? e.message : String(e))
  return m ? Number(m[1]) : undefined
}

/** True for an error restic 0.14 ignores when reading extended attributes (see {@link IGNORED_XATTR_ERRNOS}). */
export function isIgnoredXattrError(e: unknown): boolean {
  const n = xattrErrno(e)
  return n !== undefined && IGNORED_XATTR_ERRNOS.includes(n)
}

/** True for `ENOTSUP`/`EOPNOTSUPP`: the file system, or the attribute's namespace, does not take extended attributes. */
export function isUnsupportedXattrError(e: unknown): boolean {
  const n = xattrErrno(e)
  return n !== undefined && UNSUPPORTED.includes(n)
}
