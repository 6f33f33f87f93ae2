import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { hashId, type Id } from '@rustic-ts/core'

let dir: string
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rustic-local-'))
})
afterEach(async () => rm(dir, { recursive: true, force: true }))

const errorOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

describe('LocalBackend', () => {
  it('a read past the end of a file names the size the file has', async () => {
    const be = new LocalBackend(join(dir, 'repo'))
    await be.create()
    const data = new Uint8Array(1000).fill(7)
    const id = hashId(data)
    await be.writeBytes('pack', id, false, data)
    for (const [offset, length] of [[5000, 200], [800, 500], [1000, 1]]) {
      const err = await errorOf(be.readPartial('pack', id, false, offset!, length!))
      expect((err as Error).message).toBe(
        `cannot read ${length} bytes at offset ${offset} of pack ${id} at ${be.fullPath('pack', id)}: the file is only 1000 bytes long`,
      )
    }
  })

  it('removeStaleTempFiles removes only temp files older than asked, in every folder of the layout', async () => {
    const be = new LocalBackend(join(dir, 'repo'))
    await be.create()
    const data = new Uint8Array(10).fill(1)
    const id = hashId(data)
    await be.writeBytes('pack', id, false, data)
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000)
    const stale = [join(dir, 'repo', 'data', 'ab', 'new-tmp-0123456789ab'), join(dir, 'repo', 'index', `${id}-tmp-99`), join(dir, 'repo', 'config-tmp-1')]
    const fresh = join(dir, 'repo', 'data', 'cd', 'new-tmp-fresh')
    for (const p of [...stale, fresh]) await writeFile(p, 'partial pack')
    for (const p of stale) await utimes(p, old, old)
    const notTemp = join(dir, 'repo', 'data', 'ab', 'README')
    await writeFile(notTemp, 'not ours')
    await utimes(notTemp, old, old)
    expect(await be.removeStaleTempFiles(24 * 3600 * 1000)).toBe(3)
    expect(await readdir(join(dir, 'repo', 'data', 'ab'))).toEqual(['README'])
    expect(await readdir(join(dir, 'repo', 'data', 'cd'))).toEqual(['new-tmp-fresh'])
    expect(await be.list('pack')).toEqual([id as Id])
    expect(await be.removeStaleTempFiles(24 * 3600 * 1000)).toBe(0)
  })

  it('create() where a directory cannot be made fails with the reason (Node\'s recursive mkdir never returns under /proc)', async () => {
    const err = await errorOf(new LocalBackend('/proc/rustic-ts-no-such-dir/repo').create())
    expect((err as Error).message).toMatch(/^cannot create directory \/proc\/rustic-ts-no-such-dir(\/repo)?: /)
  }, 20_000)

  it('create() names the error of a parent that cannot be made, not ENOENT', async () => {
    await writeFile(join(dir, 'file'), 'x')
    const err = await errorOf(new LocalBackend(join(dir, 'file', 'a', 'repo')).create())
    expect((err as Error).message).toBe(`cannot create directory ${join(dir, 'file', 'a', 'repo')}: ENOTDIR (a part of the path is not a directory)`)
  })
})
