import { spawnSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** The functions of `@napi-rs/xattr` the tests use to set and read xattrs. */
export interface XattrApi {
  listAttributesSync(path: string): string[]
  getAttributeSync(path: string, name: string): Buffer | null
  setAttributeSync(path: string, name: string, value: Uint8Array | string): void
  removeAttributeSync(path: string, name: string): void
}

/** The xattr package, loaded as the library loads it. */
export const xattr = createRequire(import.meta.url)('@napi-rs/xattr') as XattrApi

/** Why xattr tests cannot run here (the temp dir's file system refuses `user.*` attributes), or `undefined`. */
export function xattrsUnsupported(): string | undefined {
  const probe = join(tmpdir(), `rustic-ts-xattr-probe-${process.pid}-${Math.random().toString(36).slice(2)}`)
  try {
    writeFileSync(probe, '')
    xattr.setAttributeSync(probe, 'user.probe', 'x')
    return undefined
  } catch (e) {
    return `the file system of ${tmpdir()} refuses user.* xattrs: ${(e as Error).message}`
  } finally {
    rmSync(probe, { force: true })
  }
}

/** `[name, hex value]` of each xattr of `path`, in `llistxattr` order. */
export function xattrsOf(path: string): Array<[string, string]> {
  return xattr.listAttributesSync(path).map((n) => [n, xattr.getAttributeSync(path, n)!.toString('hex')])
}

/** Sets an xattr with Python, which takes paths and names as bytes (the package only takes text). */
export function pySetXattr(path: Buffer, name: Buffer, value: string): void {
  const script = 'import os,sys; os.setxattr(bytes.fromhex(sys.argv[1]), bytes.fromhex(sys.argv[2]), sys.argv[3].encode())'
  const r = spawnSync('python3', ['-c', script, path.toString('hex'), name.toString('hex'), value])
  if (r.status !== 0) throw new Error(`cannot set xattr with python: ${r.stderr}`)
}

/** The xattr names of `path` (bytes) with Python, hex-encoded. */
export function pyListXattrs(path: Buffer): string[] {
  const script = 'import os,sys; print(" ".join(n.encode("utf-8", "surrogateescape").hex() for n in os.listxattr(bytes.fromhex(sys.argv[1]), follow_symlinks=False)))'
  const r = spawnSync('python3', ['-c', script, path.toString('hex')], { encoding: 'utf8' })
  if (r.status !== 0) throw new Error(`cannot list xattrs with python: ${r.stderr}`)
  return r.stdout.trim() === '' ? [] : r.stdout.trim().split(' ')
}
