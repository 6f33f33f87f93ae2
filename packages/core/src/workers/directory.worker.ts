/**
 * The directory worker program (see `DirectoryWorker`). Paths and names travel as binary strings (one char
 * per byte, latin1), which are exact for any bytes and cheap to clone.
 *
 * Requests are batches of directories; the newest batch is served first, each directory on its own turn of
 * the event loop, so that a listing the walk needs next (a child of the directory just entered) overtakes
 * the look-ahead listings of its parent's siblings. Each directory is answered on its own: names sorted by
 * bytes, `lstat` numbers, symlink targets, and the errors of entries that could not be read.
 *
 * For the directories asked for with xattrs, each entry but a symlink (restic 0.14's
 * `fillExtendedAttributes` skips them) also gets its extended attributes right after its `lstat`, the
 * restic way: names in `llistxattr` order, `ENOTSUP`/`ENOATTR` from the listing ignored (`handleXattrErr`),
 * an attribute that cannot be read left out and reported. The xattr package is loaded on first use; if it
 * does not load, the answers say that no xattrs were read and the caller reads them itself.
 *
 * For the directories asked for with the empty-file check, each regular file of size 0 is opened, `fstat`ed
 * and read right after its `lstat` (`isStillEmpty`): the backup then stores the ones still empty without
 * opening them again on its main thread.
 */
import { isUtf8 } from 'node:buffer'
import { constants, lstatSync, readdirSync, readlinkSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fsErrorReason } from '../error/fsErrorReason.js'
import { isStillEmpty } from '../archiver/isStillEmpty.js'
import { isIgnoredXattrError, type NativeXattrs } from '../util/nativeXattrs.js'
import { STAT_FIELDS, type AfterReaddir, type DirectoryWorkerData, type ListReply, type ListRequest } from './directory.protocol.js'
import { workerPort } from './workerPort.js'

const port = workerPort<ListRequest, ListReply, DirectoryWorkerData>()
const hooks: { afterReaddir?: AfterReaddir } = port.data.afterReaddir === undefined ? {} : await import(port.data.afterReaddir)
const afterReaddir = hooks.afterReaddir
const NON_ASCII = /[^\x00-\x7f]/

let xattrModule: NativeXattrs | null | undefined
function xattrs(): NativeXattrs | null {
  if (xattrModule === undefined) {
    const path = port.data.xattrModule
    try {
      xattrModule = path === undefined ? null : (createRequire(import.meta.url)(path) as NativeXattrs)
    } catch {
      xattrModule = null
    }
  }
  return xattrModule
}

function code(e: unknown): string {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : ''
}

interface Batch {
  id: number
  dirs: string[]
  x: string | undefined
  e: string | undefined
  next: number
}
const batches: Batch[] = []
let scheduled = false

port.listen((m) => {
  batches.push({ id: m.id, dirs: m.dirs.split('\0'), x: m.xattrs, e: m.empty, next: 0 })
  if (!scheduled) {
    scheduled = true
    setImmediate(run)
  }
})

function run(): void {
  scheduled = false
  const b = batches[batches.length - 1]
  if (b === undefined) return
  const k = b.next++
  if (b.next >= b.dirs.length) batches.pop()
  list(b.id + k, b.dirs[k]!, b.x !== undefined && b.x.charCodeAt(k) === 49, b.e !== undefined && b.e.charCodeAt(k) === 49)
  if (batches.length > 0) {
    scheduled = true
    setImmediate(run)
  }
}

function list(id: number, dir: string, withXattrs: boolean, checkEmpty: boolean): void {
  let names: string[]
  try {
    names = readdirSync(Buffer.from(dir, 'latin1'), { encoding: 'latin1' })
  } catch (e) {
    port.post({ id, code: code(e), message: fsErrorReason(e) })
    return
  }
  afterReaddir?.(dir, names)
  names.sort()
  const n = names.length
  const stats = new BigInt64Array(n * STAT_FIELDS)
  const prefix = dir.endsWith('/') ? dir : dir + '/'
  const X = withXattrs ? xattrs() : null
  const asciiPrefix = !NON_ASCII.test(prefix)
  let errors: Array<number | string> | undefined
  let links: Array<number | string> | undefined
  let xa: Array<number | string> | undefined
  let xp: Array<number | string> | undefined
  const empty: number[] | undefined = checkEmpty ? [] : undefined
  for (let i = 0; i < n; i++) {
    const name = names[i]!
    const p = Buffer.from(prefix + name, 'latin1')
    let s
    try {
      s = lstatSync(p, { bigint: true })
    } catch (e) {
      ;(errors ??= []).push(i, 0, code(e), fsErrorReason(e))
      continue
    }
    const o = i * STAT_FIELDS
    stats[o] = s.dev
    stats[o + 1] = s.ino
    stats[o + 2] = s.mode
    stats[o + 3] = s.nlink
    stats[o + 4] = s.uid
    stats[o + 5] = s.gid
    stats[o + 6] = s.rdev
    stats[o + 7] = s.size
    stats[o + 8] = s.atimeNs
    stats[o + 9] = s.mtimeNs
    stats[o + 10] = s.ctimeNs
    const type = Number(s.mode) & constants.S_IFMT
    if (empty !== undefined && type === constants.S_IFREG && s.size === 0n && isStillEmpty(p)) empty.push(i)
    if (type === constants.S_IFLNK) {
      try {
        ;(links ??= []).push(i, readlinkSync(p, { encoding: 'latin1' }))
      } catch (e) {
        ;(errors ??= []).push(i, 1, code(e), fsErrorReason(e))
      }
    } else if (X !== null) {
      // the package takes paths as UTF-8 text: a path that is not valid UTF-8 would name another file
      const text = asciiPrefix && !NON_ASCII.test(name) ? prefix + name : isUtf8(p) ? p.toString('utf8') : undefined
      if (text === undefined) {
        ;(xp ??= []).push(i, '', 'its path is not valid UTF-8')
        continue
      }
      let attrs: string[]
      try {
        attrs = X.listAttributesSync(text)
      } catch (e) {
        if (!isIgnoredXattrError(e)) (xp ??= []).push(i, '', fsErrorReason(e))
        continue
      }
      for (const attr of attrs) {
        const v = X.getAttributeSync(text, attr)
        if (v === null) (xp ??= []).push(i, attr, '')
        else (xa ??= []).push(i, attr, v.toString('latin1'))
      }
    }
  }
  port.post({ id, names: names.join('/'), stats, errors, links, x: X !== null, xattrs: xa, xattrProblems: xp, empty }, [stats.buffer])
}
