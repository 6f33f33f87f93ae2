import { execFile } from 'node:child_process'
import { mkdtemp, readdir, readFile, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONFIG_ID, hashId } from '@rustic-ts/core'
import type { Id } from '@rustic-ts/core'
import { RcloneBackend } from '@rustic-ts/backend-rclone'

const run = promisify(execFile)

describe('RcloneBackend interop with restic -r rclone:DIR', () => {
  let dir: string
  let repo: string
  let env: NodeJS.ProcessEnv
  const restic = (...args: string[]): Promise<{ stdout: string }> =>
    run('restic', ['-o', 'rclone.program=rclone', '-r', `rclone:${repo}`, ...args], { env })

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rustic-rclone-interop-'))
    repo = join(dir, 'repo')
    env = { ...process.env, RESTIC_PASSWORD: 'interop', RESTIC_CACHE_DIR: join(dir, 'cache'), RCLONE_CONFIG: '/dev/null' }
    await restic('init')
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  for (const useStdio of [true, false]) {
    it(`reads what restic made, and restic lists what rustic-ts wrote (useStdio: ${useStdio})`, async () => {
      const b = new RcloneBackend(repo, { rcloneArgs: ['--config', '/dev/null'], useStdio })
      try {
        const keyNames = (await readdir(join(repo, 'keys'))).sort()
        expect(keyNames.length).toBe(1)
        expect((await b.list('key')).sort()).toEqual(keyNames)
        const keyId = keyNames[0] as Id
        expect(await b.listWithSize('key')).toEqual([[keyId, (await stat(join(repo, 'keys', keyId))).size]])
        const key = await b.readFull('key', keyId)
        expect(hashId(key)).toBe(keyId)
        expect(JSON.parse(new TextDecoder().decode(key))).toHaveProperty('kdf', 'scrypt')
        const config = await b.readFull('config', CONFIG_ID)
        expect(Buffer.from(config).equals(await readFile(join(repo, 'config')))).toBe(true)
        expect(await b.listWithSize('config')).toEqual([[CONFIG_ID, config.length]])

        const lock = new TextEncoder().encode(`{"lock from":"rustic-ts","stdio":${useStdio}}`)
        const lockId = hashId(lock)
        await b.writeBytes('lock', lockId, true, lock)
        expect((await restic('--no-lock', 'list', 'locks')).stdout.trim().split('\n')).toEqual([lockId])
        await b.remove('lock', lockId, true)
        expect((await restic('--no-lock', 'list', 'locks')).stdout.trim()).toBe('')
      } finally {
        await b.close()
      }
    })
  }
})
