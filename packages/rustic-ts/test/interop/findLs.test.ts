import { execFile } from 'node:child_process'
import { appendFile, mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { makeDataset } from '../helpers/dataset.js'
import { resticInit } from '../helpers/cheapKey.js'
import { PASSWORD, restic, rusticOk, tempDir } from '../helpers/restic.js'

const run = promisify(execFile)
const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const c of cleanups) await c()
})

describe('find and ls against restic', () => {
  let repo: string
  let ids: string[] = []

  beforeAll(async () => {
    const tmp = await tempDir()
    cleanups.push(tmp.remove)
    const data = join(tmp.path, 'data')
    await makeDataset(data, { bigFileMiB: 1 })
    repo = join(tmp.path, 'repo')
    await resticInit(repo)
    const env = { ...process.env, RESTIC_PASSWORD: PASSWORD }
    const backup = async (): Promise<void> => {
      await run('restic', ['-r', repo, '--no-cache', 'backup', 'data'], { cwd: tmp.path, env })
    }
    await backup()
    await appendFile(join(data, 'a', 'hello.txt'), 'more\n')
    await mkdir(join(data, 'new'))
    await writeFile(join(data, 'new', 'notes.txt'), 'notes\n')
    await backup()
    const snaps = JSON.parse((await restic(repo, ['snapshots', '--json'])).toString()) as Array<{ id: string }>
    ids = snaps.map((s) => s.id)
  })

  it('ls --json prints restic ls --json lines', async () => {
    for (const id of ids) {
      const ours = (await rusticOk(['-r', repo, '--no-cache', '--json', 'ls', id])).toString()
      const theirs = (await restic(repo, ['--json', 'ls', id])).toString()
      expect(ours.split('\n').length).toBeGreaterThan(10)
      expect(ours).toBe(theirs)
    }
  })

  it('ls -l prints restic ls -l lines', async () => {
    const ours = (await rusticOk(['-r', repo, '--no-cache', 'ls', '-l', ids[1]!])).toString().split('\n').slice(1)
    const theirs = (await restic(repo, ['ls', '-l', ids[1]!])).toString().split('\n').slice(1)
    expect(ours).toEqual(theirs)
  })

  it('find --json finds what restic find --json finds, newest snapshot first', async () => {
    for (const pattern of ['*.txt', '/data/a', 'b/*', 'HELLO*']) {
      const args = pattern === 'HELLO*' ? ['-i', pattern] : [pattern]
      const ours = JSON.parse((await rusticOk(['-r', repo, '--no-cache', '--json', 'find', ...args])).toString()) as Array<{ snapshot: string }>
      const theirs = JSON.parse((await restic(repo, ['--json', 'find', ...args])).toString()) as Array<{ snapshot: string }>
      expect(ours.length).toBeGreaterThan(0)
      expect(ours.map((r) => r.snapshot)).toEqual([...ids].reverse().filter((id) => theirs.some((t) => t.snapshot === id)))
      expect(new Map(ours.map((r) => [r.snapshot, r]))).toEqual(new Map(theirs.map((r) => [r.snapshot, r])))
    }
  })

  it('find prints the matches of each snapshot as restic does', async () => {
    const ours = (await rusticOk(['-r', repo, '--no-cache', 'find', '-l', '*.txt'])).toString()
    const theirs = (await restic(repo, ['find', '-l', '*.txt'])).toString()
    const groups = (s: string): string[] => s.split(/\n(?=Found)/).map((g) => g.trim()).sort()
    expect(groups(ours)).toEqual(groups(theirs))
    expect(ours).toMatch(/\/data\/new\/notes\.txt/)
  })
})
