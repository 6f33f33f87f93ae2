import { closeSync, fstatSync, lstatSync, readFileSync, symlinkSync, writeFileSync, writeSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, expect, it } from 'vitest'
import { MetadataWriter } from '../../src/commands/restore/MetadataWriter.js'
import { GO_MODE_SETUID } from '../../src/repofile/fileMode.js'
import { openNewFile } from '../../src/workers/openNewFile.js'
import { setFdMetadata } from '../../src/workers/setFdMetadata.js'

let dir: string
beforeEach(async () => void (dir = await mkdtemp(join(tmpdir(), 'opennewfile-'))))
afterEach(async () => rm(dir, { recursive: true, force: true }))

const umask = Number.parseInt(/^Umask:\s*([0-7]+)$/m.exec(readFileSync('/proc/self/status', 'latin1'))![1]!, 8)
const times = { atimeNs: 1_600_000_000_000_000_000n, mtimeNs: 1_600_000_000_123_456_789n }

it('creates a file with its final mode where open gives it as it is, so that no fchmod is needed', () => {
  const mode = 0o640 & ~umask
  const path = join(dir, 'new')
  const { fd, created } = openNewFile(path, { mode, createMode: true, ...times })
  try {
    expect(created).toBe(true)
    expect(fstatSync(fd).mode & 0o7777).toBe(mode)
    writeSync(fd, 'written through the descriptor of a file created with its final mode')
    expect(setFdMetadata(fd, { mode, createMode: true, ...times }, created)).toBe(true)
  } finally {
    closeSync(fd)
  }
  const st = lstatSync(path, { bigint: true })
  expect(Number(st.mode) & 0o7777).toBe(mode)
  expect(st.mtimeNs).toBe(times.mtimeNs)
})

it('opens with 0600 and leaves the mode to fchmod without createMode, or when something is there already (truncated, as before)', () => {
  const plain = join(dir, 'plain')
  const a = openNewFile(plain, { mode: 0o644, ...times })
  expect(a.created).toBe(false)
  expect(fstatSync(a.fd).mode & 0o777).toBe(0o600 & ~umask)
  closeSync(a.fd)
  const there = join(dir, 'there')
  writeFileSync(there, 'old content', { mode: 0o600 })
  const b = openNewFile(there, { mode: 0o644, createMode: true, createOwner: true, ...times })
  try {
    expect(b.created).toBe(false)
    expect(fstatSync(b.fd).size).toBe(0)
    expect(setFdMetadata(b.fd, { mode: 0o644, createMode: true, createOwner: true, ...times }, b.created)).toBe(true)
    expect(fstatSync(b.fd).mode & 0o7777).toBe(0o644)
  } finally {
    closeSync(b.fd)
  }
})

it('creates a file with 0600 when only its owner is the one a new file gets (createOwner), and mode comes by fchmod', () => {
  const path = join(dir, 'owned')
  const meta = { mode: 0o666, createOwner: true, uid: process.geteuid!(), gid: process.getegid!(), ...times }
  const { fd, created } = openNewFile(path, meta)
  try {
    expect(created).toBe(true)
    expect(fstatSync(fd).mode & 0o777).toBe(0o600 & ~umask)
    expect(setFdMetadata(fd, meta, created)).toBe(true)
    const st = fstatSync(fd)
    expect([st.mode & 0o7777, st.uid, st.gid]).toEqual([0o666, meta.uid, meta.gid])
  } finally {
    closeSync(fd)
  }
})

it('never follows a symlink at the path', () => {
  const target = join(dir, 'target')
  writeFileSync(target, 'not to be touched')
  const link = join(dir, 'link')
  symlinkSync(target, link)
  expect(() => openNewFile(link, { mode: 0o644, createMode: true, ...times })).toThrow(/ELOOP/)
  expect(readFileSync(target, 'utf8')).toBe('not to be touched')
})

it('gives createMode only to modes open creates as they are: owner-writable, no setuid/setgid/sticky bit, nothing the umask takes', () => {
  const meta = new MetadataWriter({ numericId: false, noOwnership: true, warn: () => {} })
  const create = (mode: number): boolean | undefined => meta.fileMetadata({ mode, uid: 0, gid: 0, ...times })?.createMode
  expect(create(0o644 & ~umask)).toBe(true)
  expect(create(0o755 & ~umask)).toBe(true)
  expect(create(0o444)).toBeUndefined() // (not owner-writable: a later restore could not reopen it, as non-root)
  expect(create((0o755 & ~umask) + GO_MODE_SETUID)).toBeUndefined()
  if (umask !== 0) expect(create(0o777)).toBeUndefined()
})

it.runIf(process.getuid?.() === 0)('marks metadata createOwner only once the restore knows new files get the process\'s owner, and only for that owner', () => {
  const meta = new MetadataWriter({ numericId: true, noOwnership: false, warn: () => {} })
  const owner = (uid: number, gid: number): boolean | undefined => meta.fileMetadata({ mode: 0o644, uid, gid, ...times })?.createOwner
  expect(owner(process.geteuid!(), process.getegid!())).toBeUndefined()
  meta.knowNewFilesOwner()
  expect(owner(process.geteuid!(), process.getegid!())).toBe(true)
  expect(owner(process.geteuid!() + 1, process.getegid!())).toBeUndefined()
  expect(owner(process.geteuid!(), process.getegid!() + 1)).toBeUndefined()
})
