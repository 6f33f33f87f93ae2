import { execFile } from 'node:child_process'
import { mkdtemp, readdir, rm, stat } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BackendError, CONFIG_ID, hashId } from '@rustic-ts/core'
import { RestBackend } from '@rustic-ts/backend-rest'
import { startRcloneRestServer } from '../rcloneServer.js'
import type { RcloneRestServer } from '../rcloneServer.js'

const run = promisify(execFile)

async function rejection(p: Promise<unknown>): Promise<BackendError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(err, 'expected the call to fail').toBeInstanceOf(BackendError)
  return err as BackendError
}

describe('RestBackend against rclone serve restic', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rustic-rest-rclone-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('basic auth: right password works, wrong password is PermissionDenied without the password', async () => {
    const server = await startRcloneRestServer(join(dir, 'auth'), ['--user', 'bob', '--pass', 'Right-Pw'])
    const port = server.port
    try {
      const good = new RestBackend(`http://bob:Right-Pw@127.0.0.1:${port}`)
      await good.create()
      await good.writeBytes('config', CONFIG_ID, true, new Uint8Array([1, 2, 3]))
      expect(await good.list('config')).toEqual([CONFIG_ID])
      expect(good.location()).toBe(`rest:http://bob@127.0.0.1:${port}/`)
      await good.close()

      const bad = new RestBackend(`http://bob:Wr0ng-S3cret@127.0.0.1:${port}/`)
      for (const call of [() => bad.list('key'), () => bad.readFull('config', CONFIG_ID), () => bad.create()]) {
        const err = await rejection(call())
        expect(err.backendKind).toBe('PermissionDenied')
        expect(err.isTransient).toBe(false)
        expect(err.message).toContain('401')
        expect(err.message).toContain(`127.0.0.1:${port}`)
        expect(`${err.message} ${String(err.stack)}`).not.toContain('Wr0ng-S3cret')
      }
      expect(bad.location()).not.toContain('Wr0ng-S3cret')
      await bad.close()

      const none = new RestBackend(`http://127.0.0.1:${port}/`)
      expect((await rejection(none.list('snapshot'))).backendKind).toBe('PermissionDenied')
      await none.close()
    } finally {
      await server.stop()
    }
  })

  it('--append-only: writing works, deleting is PermissionDenied', async () => {
    const server = await startRcloneRestServer(join(dir, 'append'), ['--append-only'])
    try {
      const b = new RestBackend(server.url)
      await b.create()
      const data = new TextEncoder().encode('snapshot data')
      const id = hashId(data)
      await b.writeBytes('snapshot', id, true, data)
      const err = await rejection(b.remove('snapshot', id, true))
      expect(err.backendKind).toBe('PermissionDenied')
      expect(err.message).toContain(`DELETE snapshot ${id}`)
      expect(await b.list('snapshot')).toEqual([id])
      await b.close()
    } finally {
      await server.stop()
    }
  })

  it('a stopped server gives transient Network errors', async () => {
    const server = await startRcloneRestServer(join(dir, 'stopped'))
    const b = new RestBackend(server.url, { connectTimeoutMs: 2000 })
    await b.create()
    await server.stop()
    const err = await rejection(b.list('index'))
    expect(err.backendKind).toBe('Network')
    expect(err.isTransient).toBe(true)
    expect(err.message).toMatch(/list index\/ at rest:http:\/\/127\.0\.0\.1:\d+\/ failed/)
    await b.close()
  })

  describe('interop with restic', () => {
    let server: RcloneRestServer
    const env = { ...process.env, RESTIC_PASSWORD: 'interop-pw', RESTIC_CACHE_DIR: '' }
    beforeAll(async () => {
      server = await startRcloneRestServer(join(dir, 'restic'))
      env.RESTIC_CACHE_DIR = join(dir, 'restic-cache')
      await run('restic', ['-r', `rest:${server.url}`, 'init'], { env })
    })
    afterAll(async () => {
      await server?.stop()
    })

    it('reads the keys and config restic made; restic sees a file rustic-ts wrote', async () => {
      const b = new RestBackend(server.url)
      const keysDir = join(dir, 'restic', 'keys')
      const keyFiles = (await readdir(keysDir)).sort()
      expect(keyFiles.length).toBe(1)
      expect((await b.list('key')).sort()).toEqual(keyFiles)
      const withSize = await b.listWithSize('key')
      expect(withSize).toEqual([[keyFiles[0], (await stat(join(keysDir, keyFiles[0]!))).size]])
      const key = JSON.parse(new TextDecoder().decode(await b.readFull('key', keyFiles[0] as never))) as Record<string, unknown>
      expect(key['kdf']).toBe('scrypt')
      expect(hashId(await b.readFull('key', keyFiles[0] as never))).toBe(keyFiles[0])
      const config = await b.readFull('config', CONFIG_ID)
      expect(config.length).toBe((await stat(join(dir, 'restic', 'config'))).size)
      expect(await b.list('config')).toEqual([CONFIG_ID])
      expect(await b.list('snapshot')).toEqual([])

      // a lock file written by rustic-ts is listed by restic
      const lock = new TextEncoder().encode('{"not":"a real lock"}')
      const lockId = hashId(lock)
      await b.writeBytes('lock', lockId, true, lock)
      const { stdout } = await run('restic', ['-r', `rest:${server.url}`, '--no-lock', 'list', 'locks'], { env })
      expect(stdout.trim().split('\n')).toContain(lockId)
      await b.remove('lock', lockId, true)
      const after = await run('restic', ['-r', `rest:${server.url}`, '--no-lock', 'list', 'locks'], { env })
      expect(after.stdout.trim()).toBe('')
      await b.close()
    })
  })
})
