import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cheapKey } from '../helpers/cheapKey.js'
import { PASSWORD, restic, rustic, rusticOk, run, tempDir } from '../helpers/restic.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let repo: string
let newPw: string

beforeAll(async () => {
  tmp = await tempDir()
  repo = join(tmp.path, 'repo')
  await restic(repo, ['init'])
  await cheapKey(repo)
  await writeFile(join(tmp.path, 'data.txt'), 'some data\n')
  await restic(repo, ['backup', join(tmp.path, 'data.txt')])
  newPw = join(tmp.path, 'new-pw')
  await writeFile(newPw, 'a new password\n')
}, 60_000)
afterAll(async () => tmp?.remove())

const resticWith = (passwordFile: string, args: string[]) => run('restic', ['-r', repo, '--no-cache', '--password-file', passwordFile, ...args], { RESTIC_PASSWORD: undefined })

describe('key commands against restic 0.14', () => {
  it('key add: restic opens the repository with the new password; key list --json equals restic\'s', async () => {
    await rusticOk(['-r', repo, '--no-cache', 'key', 'add', '--new-password-file', newPw, '--host', 'otherhost', '--user', 'otheruser'])
    const snaps = await resticWith(newPw, ['snapshots', '--json'])
    expect(snaps.code, snaps.stderr).toBe(0)
    expect(JSON.parse(snaps.stdout.toString())).toHaveLength(1)
    const ours = JSON.parse((await rusticOk(['-r', repo, '--no-cache', '--json', 'key', 'list'])).toString()) as unknown[]
    const theirs = JSON.parse((await restic(repo, ['key', 'list', '--json'])).toString()) as unknown[]
    const byId = (a: unknown, b: unknown): number => ((a as { id: string }).id < (b as { id: string }).id ? -1 : 1)
    expect(ours.sort(byId)).toEqual(theirs.sort(byId))
    expect(ours).toContainEqual(expect.objectContaining({ current: false, userName: 'otheruser', hostName: 'otherhost' }))
  })

  it('key remove refuses the key in use (restic agrees it is in use), removes another', async () => {
    const keys = JSON.parse((await restic(repo, ['key', 'list', '--json'])).toString()) as Array<{ id: string; current: boolean; userName: string }>
    const current = keys.find((k) => k.current)!
    const refused = await rustic(['-r', repo, '--no-cache', 'key', 'remove', current.id])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/refusing to remove key [0-9a-f]{64}: it is the key in use/)
    const other = keys.find((k) => !k.current)!
    await rusticOk(['-r', repo, '--no-cache', 'key', 'remove', other.id])
    expect((await resticWith(newPw, ['snapshots'])).code).not.toBe(0)
    expect(JSON.parse((await restic(repo, ['key', 'list', '--json'])).toString())).toHaveLength(1)
  })

  it('key passwd: restic opens with the new password only', async () => {
    await rusticOk(['-r', repo, '--no-cache', 'key', 'passwd', '--new-password-file', newPw])
    expect((await resticWith(newPw, ['snapshots'])).code).toBe(0)
    const old = await run('restic', ['-r', repo, '--no-cache', 'snapshots'], { RESTIC_PASSWORD: PASSWORD })
    expect(old.code).not.toBe(0)
    expect(old.stderr).toMatch(/wrong password/)
    const check = await resticWith(newPw, ['check'])
    expect(check.code, check.stderr).toBe(0)
  })
})
