import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONFIG_ID, hashId } from '@rustic-ts/core'
import { LocalBackend } from '@rustic-ts/backend-local'

const run = promisify(execFile)
let dir: string
let pwFile: string

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rustic-ts-local-restic-'))
  pwFile = join(dir, 'pw')
  await writeFile(pwFile, 'secret\n')
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

const restic = (repo: string, ...args: string[]) =>
  run('restic', ['-r', repo, '--password-file', pwFile, '--no-cache', ...args], { env: { ...process.env, RESTIC_PASSWORD: '' } })

describe('LocalBackend and restic', () => {
  it('reads a repository made by restic init', async () => {
    const repo = join(dir, 'src-repo')
    await restic(repo, 'init')
    const b = new LocalBackend(repo)
    const keys = await b.list('key')
    expect(keys.length).toBe(1)
    const key = JSON.parse(new TextDecoder().decode(await b.readFull('key', keys[0]!))) as Record<string, unknown>
    expect(key).toHaveProperty('kdf', 'scrypt')
    expect(hashId(await b.readFull('key', keys[0]!))).toBe(keys[0])
    expect(await b.list('config')).toEqual([CONFIG_ID])
    const config = await b.readFull('config', CONFIG_ID)
    expect(config.length).toBeGreaterThan(32)
    expect((await b.listWithSize('config'))[0]![1]).toBe(config.length)
    expect(await b.list('pack')).toEqual([])
    expect((await readdir(join(repo, 'data'))).length).toBe(256)
  })

  it('restic accepts a repository whose files LocalBackend wrote', async () => {
    const src = join(dir, 'src-repo') // made by the test above
    const data = join(dir, 'data')
    await writeFile(data, 'some data to back up\n'.repeat(1000))
    await restic(src, 'backup', data)
    // copy every file of the restic repository through LocalBackend into a fresh one
    const from = new LocalBackend(src)
    const to = new LocalBackend(join(dir, 'copy'))
    await to.create()
    for (const t of ['config', 'key', 'snapshot', 'index', 'pack'] as const) {
      for (const id of await from.list(t)) await to.writeBytes(t, id, t !== 'pack', await from.readFull(t, id))
    }
    const { stdout } = await restic(join(dir, 'copy'), 'check', '--read-data')
    expect(stdout).toMatch(/no errors were found/)
    const snaps = JSON.parse((await restic(join(dir, 'copy'), 'snapshots', '--json')).stdout) as unknown[]
    expect(snaps.length).toBe(1)
  })
})
