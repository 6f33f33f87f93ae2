import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import type { BigIntStats } from 'node:fs'
import { goModeFromUnix, nodeFromStats, nodeTypeFromUnixMode, parseGoTime, serializeNode, unixPermFromGoMode, UserNames } from '@rustic-ts/core/internal'

describe('Go file modes', () => {
  it('maps st_mode to the modes restic stores', () => {
    expect(goModeFromUnix(0o100644, 'file')).toBe(420)
    expect(goModeFromUnix(0o040755, 'dir')).toBe(2147484141)
    expect(goModeFromUnix(0o120777, 'symlink')).toBe(134218239)
    expect(goModeFromUnix(0o010644, 'fifo')).toBe(33554852)
    expect(goModeFromUnix(0o020620, 'chardev')).toBe(2 ** 26 + 2 ** 21 + 0o620)
    expect(goModeFromUnix(0o060660, 'dev')).toBe(2 ** 26 + 0o660)
    expect(goModeFromUnix(0o140755, 'socket')).toBe(2 ** 24 + 0o755)
    expect(goModeFromUnix(0o104755, 'file')).toBe(2 ** 23 + 0o755)
    expect(goModeFromUnix(0o102755, 'file')).toBe(2 ** 22 + 0o755)
    expect(goModeFromUnix(0o041777, 'dir')).toBe(2 ** 31 + 2 ** 20 + 0o777)
    expect(goModeFromUnix(0o047777, 'dir')).toBe(2 ** 31 + 2 ** 23 + 2 ** 22 + 2 ** 20 + 0o777)
  })

  it('gives back chmod bits', () => {
    for (const perm of [0, 0o644, 0o755, 0o4755, 0o2640, 0o1777, 0o7777]) {
      for (const [fmt, type] of [
        [0o100000, 'file'],
        [0o040000, 'dir'],
        [0o020000, 'chardev'],
      ] as const) {
        expect(unixPermFromGoMode(goModeFromUnix(fmt | perm, type))).toBe(perm)
      }
    }
    expect(unixPermFromGoMode(2 ** 32 - 1)).toBe(0o7777)
  })

  it('knows the Unix file types', () => {
    expect(nodeTypeFromUnixMode(0o100644)).toBe('file')
    expect(nodeTypeFromUnixMode(0o040755)).toBe('dir')
    expect(nodeTypeFromUnixMode(0o120777)).toBe('symlink')
    expect(nodeTypeFromUnixMode(0o060600)).toBe('dev')
    expect(nodeTypeFromUnixMode(0o020600)).toBe('chardev')
    expect(nodeTypeFromUnixMode(0o010600)).toBe('fifo')
    expect(nodeTypeFromUnixMode(0o140600)).toBe('socket')
    expect(nodeTypeFromUnixMode(0o160000)).toBeUndefined()
  })
})

/** A synthetic lstat result. */
function stats(mode: number, over: Partial<Record<keyof BigIntStats, bigint>> = {}): BigIntStats {
  const t = 1669216793_317077288n
  return {
    mode: BigInt(mode),
    uid: 1000n,
    gid: 100n,
    ino: 42n,
    dev: 65024n,
    size: 0n,
    nlink: 1n,
    rdev: 0n,
    mtimeNs: t,
    atimeNs: t + 5n,
    ctimeNs: t + 10n,
    ...over,
  } as unknown as BigIntStats
}

describe('nodeFromStats', () => {
  const savedTz = process.env.TZ
  afterAll(() => {
    if (savedTz === undefined) delete process.env.TZ
    else process.env.TZ = savedTz
  })

  it('makes restic nodes for each type', () => {
    process.env.TZ = 'UTC'
    const file = nodeFromStats('f', stats(0o100644, { size: 12n, nlink: 2n }), { user: 'me', group: 'users', xattrs: [{ name: 'user.a', value: new Uint8Array([1]) }] })
    expect(serializeNode(file)).toBe(
      '{"name":"f","type":"file","mode":420,"mtime":"2022-11-23T15:19:53.317077288Z","atime":"2022-11-23T15:19:53.317077288Z","ctime":"2022-11-23T15:19:53.317077298Z","uid":1000,"gid":100,"user":"me","group":"users","inode":42,"device_id":65024,"size":12,"links":2,"extended_attributes":[{"name":"user.a","value":"AQ=="}],"content":[]}',
    )
    expect(nodeFromStats('f', stats(0o100644), { withAtime: true }).atime).toBe('2022-11-23T15:19:53.317077293Z')
    const dev = nodeFromStats('sda', stats(0o060660, { ino: 2n ** 64n - 1n, rdev: 2n ** 60n, size: 512n }))
    expect(dev).toMatchObject({ type: 'dev', mode: 2 ** 26 + 0o660, inode: 2n ** 64n - 1n, device: 2n ** 60n, links: 1, content: null })
    expect(dev.size).toBeUndefined()
    const dir = nodeFromStats('d', stats(0o040755, { nlink: 3n, size: 4096n }))
    expect(dir).toMatchObject({ type: 'dir', mode: 2147484141, content: null })
    expect(dir.links).toBeUndefined()
    expect(dir.size).toBeUndefined()
    const sparse = nodeFromStats('s', stats(0o100600, { size: 2n ** 63n + 1n }))
    expect(serializeNode(sparse)).toContain('"size":9223372036854775809,')
    const fifo = nodeFromStats('p', stats(0o010600))
    expect(fifo.links).toBeUndefined()
    expect(() => nodeFromStats('x', stats(0o160000))).toThrow(/unknown file type/)
  })

  it('keeps names and symlink targets that are not UTF-8 as bytes', () => {
    const bad = Uint8Array.from([0x61, 0xff])
    const link = nodeFromStats(bad, stats(0o120777), { linktarget: bad, xattrs: [{ name: 'user.a', value: new Uint8Array(0) }] })
    expect(link).toMatchObject({ name: 'a\ufffd', nameRaw: bad, linktarget: 'a\ufffd', linktargetRaw: bad, links: 1 })
    expect(link.extendedAttributes).toBeUndefined() // restic reads no xattrs of symlinks
    const ok = nodeFromStats(Buffer.from('ü'), stats(0o120777), { linktarget: Buffer.from('/tmp/ü') })
    expect(ok.name).toBe('ü')
    expect(ok.nameRaw).toBeUndefined()
    expect(ok.linktarget).toBe('/tmp/ü')
    expect(ok.linktargetRaw).toBeUndefined()
  })

  it('formats times in the local zone and clamps years like restic', () => {
    process.env.TZ = 'Asia/Kolkata'
    const n = nodeFromStats('f', stats(0o100644, { mtimeNs: 1_500_000_000n, ctimeNs: parseGoTime('9999-12-31T23:00:00Z').unixNs }))
    expect(n.mtime).toBe('1970-01-01T05:30:01.5+05:30')
    // 9999-12-31T23:00Z is 10000-01-01T04:30+05:30 locally: restic's FixTime moves it back to 9999
    expect(n.ctime).toBe('9999-01-01T04:30:00+05:30')
  })
})

describe('UserNames', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rustic-users-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('reads names from passwd and group files, first entry first', async () => {
    writeFileSync(join(dir, 'passwd'), '# comment\nroot:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/sh\nalias:x:1000:1000::/:/bin/sh\n+nis\nbroken\n')
    writeFileSync(join(dir, 'group'), 'root:x:0:\nstaff:x:50:alice\n')
    const names = new UserNames({ passwdFile: join(dir, 'passwd'), groupFile: join(dir, 'group') })
    expect(await names.userName(1000)).toBe('alice')
    expect(await names.userName(0)).toBe('root')
    expect(await names.userName(4242)).toBeUndefined()
    expect(await names.uidOf('alias')).toBe(1000)
    expect(await names.uidOf('nobody-here')).toBeUndefined()
    expect(await names.groupName(50)).toBe('staff')
    expect(await names.gidOf('root')).toBe(0)
  })

  it('has no names when the files are missing, and reads the real ones by default', async () => {
    const none = new UserNames({ passwdFile: join(dir, 'nope'), groupFile: join(dir, 'nope') })
    expect(await none.userName(0)).toBeUndefined()
    expect(await none.gidOf('root')).toBeUndefined()
    expect(await new UserNames().uidOf('root')).toBe(0)
  })
})
