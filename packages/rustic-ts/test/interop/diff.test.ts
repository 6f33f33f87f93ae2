import { execFile } from 'node:child_process'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { resticInit } from '../helpers/cheapKey.js'
import { PASSWORD, restic, rusticOk, tempDir } from '../helpers/restic.js'

const run = promisify(execFile)
const MKDATA = '/work/shared/bench/mkdata.py'
const cleanups: Array<() => Promise<void>> = []
afterAll(async () => {
  for (const c of cleanups) await c()
})

describe('diff on the mkdata mutate set', () => {
  let repo: string
  let s1: string
  let s2: string

  beforeAll(async () => {
    const tmp = await tempDir()
    cleanups.push(tmp.remove)
    const data = join(tmp.path, 'data')
    await run('python3', [MKDATA, data, '--scale', '0.02'])
    repo = join(tmp.path, 'repo')
    await resticInit(repo)
    const env = { ...process.env, RESTIC_PASSWORD: PASSWORD }
    const backup = async (): Promise<string> => {
      const { stdout } = await run('restic', ['-r', repo, '--no-cache', '--json', 'backup', 'data'], { cwd: tmp.path, env })
      const summary = stdout
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { message_type: string; snapshot_id?: string })
        .find((m) => m.message_type === 'summary')!
      return summary.snapshot_id!.slice(0, 8)
    }
    s1 = await backup()
    await run('python3', [MKDATA, data, '--mutate'])
    await run('mkdir', ['-p', join(data, 'src', 'type-change')])
    // a type change: a file becomes a directory
    await run('rm', [join(data, 'media', 'm0.bin')])
    await run('mkdir', [join(data, 'media', 'm0.bin')])
    await run('touch', [join(data, 'media', 'm0.bin', 'inner')])
    s2 = await backup()
  })

  it('prints what restic diff prints (text)', async () => {
    const ours = (await rusticOk(['-r', repo, '--no-cache', 'diff', s1, s2])).toString()
    const theirs = (await restic(repo, ['diff', s1, s2])).toString()
    const lines = theirs.split('\n')
    expect(lines.filter((l) => l.startsWith('+')).length).toBeGreaterThan(200)
    expect(lines.filter((l) => l.startsWith('-')).length).toBeGreaterThan(1)
    expect(lines.filter((l) => l.startsWith('M')).length).toBeGreaterThan(5)
    expect(lines).toContain('T    /data/media/m0.bin/')
    expect(ours).toBe(theirs)
  })

  it('prints what restic diff --json --metadata prints', async () => {
    const ours = (await rusticOk(['-r', repo, '--no-cache', '--json', 'diff', '--metadata', s1, s2])).toString()
    const theirs = (await restic(repo, ['--json', 'diff', '--metadata', s1, s2])).toString()
    expect(theirs).toMatch(/"modifier":"U"/)
    expect(ours).toBe(theirs)
  })

  it('compares subfolders: SNAP:PATH', async () => {
    const ours = (await rusticOk(['-r', repo, '--no-cache', '--json', 'diff', `${s1}:/data/src`, `${s2}:/data/src`])).toString()
    const changes = ours
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { message_type: string; path?: string; modifier?: string })
      .filter((c) => c.message_type === 'change')
    expect(changes.length).toBeGreaterThan(5)
    expect(changes.find((c) => c.path === '/type-change/')?.modifier).toBe('+')
    expect(changes.every((c) => !c.path!.startsWith('/data') && !c.path!.startsWith('/new'))).toBe(true)
  })
})
