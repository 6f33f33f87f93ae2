import { describe, expect, it } from 'vitest'
import { childEnv, runCommand } from '@rustic-ts/core/internal'

describe('childEnv', () => {
  it('drops RUSTIC_*/RESTIC_* secrets and URLs with passwords, keeps the rest', () => {
    const env = childEnv({
      PATH: '/bin',
      HOME: '/root',
      RUSTIC_PASSWORD: 'a',
      RESTIC_PASSWORD: 'b',
      RUSTIC_PASSWORD_FILE: '/pw',
      RESTIC_PASSWORD_COMMAND: 'pass show x',
      RESTIC_REST_PASSWORD: 'c',
      RUSTIC_KEY: 'd',
      RUSTIC_REPOSITORY: 'rest:https://user:secret@host/repo',
      RESTIC_REPOSITORY: '/srv/repo',
      RUSTIC_CACHE_DIR: '/cache',
      MY_PASSWORD: 'not ours to judge',
    })
    expect(env).toEqual({
      PATH: '/bin',
      HOME: '/root',
      RESTIC_REPOSITORY: '/srv/repo',
      RUSTIC_CACHE_DIR: '/cache',
      MY_PASSWORD: 'not ours to judge',
    })
  })

  it('is what commands get by default', async () => {
    const saved = process.env['RUSTIC_PASSWORD']
    process.env['RUSTIC_PASSWORD'] = 'ENV-SECRET'
    try {
      const { stdout } = await runCommand(['sh', '-c', 'echo "${RUSTIC_PASSWORD-unset}"'], 'test command')
      expect(stdout.toString().trim()).toBe('unset')
    } finally {
      if (saved === undefined) delete process.env['RUSTIC_PASSWORD']
      else process.env['RUSTIC_PASSWORD'] = saved
    }
  })
})
