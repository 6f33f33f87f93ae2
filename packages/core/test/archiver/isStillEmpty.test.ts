import { execFileSync } from 'node:child_process'
import { existsSync, statSync } from 'node:fs'
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isStillEmpty } from '../../src/archiver/isStillEmpty.js'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rustic-ts-still-empty-'))
})
afterAll(async () => rm(dir, { recursive: true, force: true }))

describe('isStillEmpty', () => {
  it('is true only for a regular file without content, named by text or bytes', async () => {
    await writeFile(join(dir, 'empty'), '')
    await writeFile(join(dir, 'one byte'), 'x')
    await mkdir(join(dir, 'sub'))
    expect(isStillEmpty(join(dir, 'empty'))).toBe(true)
    expect(isStillEmpty(new Uint8Array(Buffer.from(join(dir, 'empty'))))).toBe(true)
    expect(isStillEmpty(join(dir, 'one byte'))).toBe(false)
    expect(isStillEmpty(join(dir, 'sub'))).toBe(false)
    expect(isStillEmpty(join(dir, 'missing'))).toBe(false)
  })

  it('does not follow a symlink, nor take a fifo or a device for an empty file', async () => {
    await writeFile(join(dir, 'target'), '')
    await symlink(join(dir, 'target'), join(dir, 'link'))
    expect(isStillEmpty(join(dir, 'link'))).toBe(false)
    execFileSync('mkfifo', [join(dir, 'fifo')])
    expect(isStillEmpty(join(dir, 'fifo'))).toBe(false)
    expect(isStillEmpty('/dev/null')).toBe(false)
  })

  it.runIf(existsSync('/proc/version'))('a /proc file listed with size 0 has content: not empty', () => {
    expect(statSync('/proc/version').size).toBe(0)
    expect(isStillEmpty('/proc/version')).toBe(false)
  })
})
