import { mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, expect, it } from 'vitest'
import { FileWriter, type WriterFile } from '../../../src/commands/restore/FileWriter.js'

let dir: string | undefined
afterEach(async () => {
  if (dir) await rm(dir, { recursive: true, force: true })
  dir = undefined
})

it('prepareEmpty creates a new empty file with its metadata on the descriptor, empties an existing one, and never follows a symlink', async () => {
  dir = await mkdtemp(join(tmpdir(), 'filewriter-'))
  const files: WriterFile[] = [
    { path: join(dir, 'new'), size: 0, create: true, writes: 0 },
    { path: join(dir, 'existing'), size: 0, create: false, writes: 0 },
    { path: join(dir, 'link'), size: 0, create: true, writes: 0 },
  ]
  await writeFile(files[1]!.path as string, 'old content')
  await writeFile(join(dir, 'elsewhere'), 'not to be touched')
  await symlink(join(dir, 'elsewhere'), files[2]!.path as string)
  const writer = new FileWriter((i) => files[i]!, 4)
  const mtimeNs = 1_700_000_000_987_654_321n
  expect(writer.prepareEmpty(0, { mode: 0o751, atimeNs: mtimeNs, mtimeNs })).toBe(true)
  const st = await stat(files[0]!.path as string, { bigint: true })
  expect([st.size, Number(st.mode) & 0o7777, st.mtimeNs]).toEqual([0n, 0o751, mtimeNs])
  expect(writer.prepareEmpty(1)).toBe(false)
  expect(await readFile(files[1]!.path as string, 'utf8')).toBe('')
  expect(() => writer.prepareEmpty(2)).toThrow(/ELOOP/)
  expect(await readFile(join(dir, 'elsewhere'), 'utf8')).toBe('not to be touched')
})
