import { link, mkdtemp, rm, stat, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { fsErrorReason } from '../../src/error/fsErrorReason.js'

describe('fsErrorReason', () => {
  let dir = ''
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'fsErrorReason-'))
    await writeFile(join(dir, 'file'), 'x')
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it("drops the syscall and path Node appends: 'ENOTDIR: not a directory', 'ENOENT: no such file or directory'", async () => {
    const below = await stat(join(dir, 'file', 'sub')).catch((e: unknown) => e)
    expect((below as Error).message).toContain(`stat '${join(dir, 'file', 'sub')}'`)
    expect(fsErrorReason(below)).toBe('ENOTDIR: not a directory')
    expect(fsErrorReason(await stat(join(dir, 'missing')).catch((e: unknown) => e))).toBe('ENOENT: no such file or directory')
  })

  it('keeps a message that names a second path, and any other error or value as it is', async () => {
    const exists = await link(join(dir, 'file'), join(dir, 'file')).catch((e: unknown) => e)
    expect(fsErrorReason(exists)).toBe((exists as Error).message)
    expect(fsErrorReason(exists)).toContain(' -> ')
    expect(fsErrorReason(new Error('plain, stat \'x\''))).toBe("plain, stat 'x'")
    expect(fsErrorReason('text')).toBe('text')
  })
})
