import { randomBytes } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { CONFIG_ID, RusticError, hashId } from '@rustic-ts/core'
import { RcloneBackend } from '@rustic-ts/backend-rclone'
import { parseRcloneVersion } from '../src/rcloneVersion.js'
import { redactRclonePath } from '../src/redactRclonePath.js'
import type { RcloneBackendOptions } from '@rustic-ts/backend-rclone'

/** Every backend a test makes, closed after each test even when it fails (no rclone left behind). */
const made: RcloneBackend[] = []
function makeBackend(remotePath: string, options?: RcloneBackendOptions): RcloneBackend {
  const b = new RcloneBackend(remotePath, options)
  made.push(b)
  return b
}
afterEach(async () => {
  await Promise.all(made.splice(0).map((b) => b.close()))
})

const NO_CONFIG = ['--config', '/dev/null']

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

async function failure(p: Promise<unknown>): Promise<RusticError> {
  const err = await p.then(
    () => expect.fail('expected the call to fail'),
    (e: unknown) => e,
  )
  expect(err).toBeInstanceOf(RusticError)
  return err as RusticError
}

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time')
    await new Promise((r) => setTimeout(r, 20))
  }
}

describe('RcloneBackend lifecycle', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rustic-rclone-life-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  for (const useStdio of [true, false]) {
    describe(useStdio ? '--stdio (HTTP/2 over pipes)' : '--addr (HTTP/1.1 on 127.0.0.1)', () => {
      it('starts lazily, one child per backend; close() kills it and unregisters the exit hook; reuse restarts', async () => {
        const exitListeners = process.listenerCount('exit')
        const b = makeBackend(join(dir, `lazy-${useStdio}`), { rcloneArgs: NO_CONFIG, useStdio })
        expect(b.pid).toBeUndefined()
        expect(b.location()).toBe(`rclone:${join(dir, `lazy-${useStdio}`)}`)
        await Promise.all([b.create(), b.list('key'), b.list('snapshot')])
        const pid = b.pid!
        expect(pid).toBeGreaterThan(0)
        expect(alive(pid)).toBe(true)
        expect(process.listenerCount('exit')).toBe(exitListeners + 1)
        await b.list('index')
        expect(b.pid).toBe(pid)

        const other = makeBackend(join(dir, `lazy-${useStdio}`), { rcloneArgs: NO_CONFIG, useStdio })
        await other.list('key')
        expect(other.pid).not.toBe(pid)
        expect(process.listenerCount('exit')).toBe(exitListeners + 1)
        await other.close()

        await b.close()
        expect(b.pid).toBeUndefined()
        expect(alive(pid)).toBe(false)
        expect(process.listenerCount('exit')).toBe(exitListeners)
        await b.close() // idempotent

        await b.writeBytes('config', CONFIG_ID, true, new Uint8Array([7]))
        expect(b.pid).toBeGreaterThan(0)
        expect(b.pid).not.toBe(pid)
        expect(Array.from(await b.readFull('config', CONFIG_ID))).toEqual([7])
        await b.close()
      })

      it('a killed rclone is restarted by the next call', async () => {
        const b = makeBackend(join(dir, `restart-${useStdio}`), { rcloneArgs: NO_CONFIG, useStdio })
        await b.create()
        const pid = b.pid!
        process.kill(pid, 'SIGKILL')
        await waitFor(() => b.pid === undefined)
        expect(await b.list('snapshot')).toEqual([])
        expect(b.pid).toBeGreaterThan(0)
        expect(b.pid).not.toBe(pid)
        await b.close()
      })

      it('an abort during a transfer rejects with Aborted and leaves the connection usable', async () => {
        const b = makeBackend(join(dir, `abort-${useStdio}`), { rcloneArgs: NO_CONFIG, useStdio })
        await b.create()
        const data = randomBytes(24 * 1024 * 1024)
        const id = hashId(data)
        await b.writeBytes('pack', id, false, data)
        const pid = b.pid
        for (let i = 0; i < 3; i++) {
          const ac = new AbortController()
          const read = b.readFull('pack', id, { signal: ac.signal })
          setTimeout(() => ac.abort(), 2)
          const err = await failure(read)
          expect(err.code).toBe('Aborted')
        }
        expect(hashId(await b.readFull('pack', id))).toBe(id)
        expect(b.pid).toBe(pid)
      })

      it('an unknown remote fails fast with rclone\'s message and no leftover process', async () => {
        const exitListeners = process.listenerCount('exit')
        const b = makeBackend('nosuchremote:path', { rcloneArgs: NO_CONFIG, useStdio })
        const t0 = Date.now()
        const err = await failure(b.list('snapshot'))
        expect(Date.now() - t0).toBeLessThan(10_000)
        expect(err.kind).toBe('ExternalCommand')
        expect(err.message).toContain('nosuchremote:path')
        expect(err.message).toContain("didn't find section in config file")
        expect(b.pid).toBeUndefined()
        expect(process.listenerCount('exit')).toBe(exitListeners)
        await b.close()
      })
    })
  }

  it('a missing rclone binary is a clear ExternalCommand error', async () => {
    for (const checkVersion of [true, false]) {
      const b = makeBackend(join(dir, 'missing'), { rcloneCommand: '/nonexistent/rclone', checkVersion })
      const err = await failure(b.list('key'))
      expect(err.kind).toBe('ExternalCommand')
      expect(err.code).toBe('RcloneNotFound')
      expect(err.message).toMatch(/^rclone not found: install rclone/)
      expect(err.message).toContain('/nonexistent/rclone')
      await b.close()
    }
  })

  it('startup is bounded by startupTimeoutMs, and the child is killed', async () => {
    const exitListeners = process.listenerCount('exit')
    const b = makeBackend(join(dir, 'slow'), { rcloneArgs: NO_CONFIG, startupTimeoutMs: 1, checkVersion: false })
    const err = await failure(b.start())
    expect(err.code).toBe('RcloneTimeout')
    expect(err.message).toContain('within 1 ms')
    expect(b.pid).toBeUndefined()
    expect(process.listenerCount('exit')).toBe(exitListeners)
  })

  it('rclone is stopped when this process exits (the registered exit hook)', async () => {
    const before = new Set(process.listeners('exit'))
    const b = makeBackend(join(dir, 'exit-hook'), { rcloneArgs: NO_CONFIG })
    await b.start()
    const pid = b.pid!
    const hook = process.listeners('exit').find((l) => !before.has(l))
    expect(hook).toBeTypeOf('function')
    ;(hook as () => void)()
    await waitFor(() => !alive(pid))
    await b.close()
  })

  it('hides connection-string parameters in location() and errors', async () => {
    const remote = 'nosuchremote,secret_access_key=VERY-SECRET-VALUE:bucket/repo'
    const lines: string[] = []
    const b = makeBackend(remote, { rcloneArgs: NO_CONFIG, onStderr: (l) => lines.push(l) })
    expect(b.location()).toBe('rclone:nosuchremote,secret_access_key=***:bucket/repo')
    const err = await failure(b.create())
    expect(err.message).toContain('secret_access_key=***')
    expect(err.message).not.toContain('VERY-SECRET-VALUE')
    expect(lines.join('\n')).toContain("didn't find section in config file")
    expect(lines.join('\n')).not.toContain('VERY-SECRET-VALUE')
    await b.close()
  })

  it('rejects bad options and empty paths', () => {
    expect(() => new RcloneBackend('')).toThrow(/empty/)
    expect(() => new RcloneBackend('x:', { connections: 0 })).toThrow(/connections/)
  })
})

describe('helpers', () => {
  it('parseRcloneVersion', () => {
    expect(parseRcloneVersion('rclone v1.60.1-DEV\n- os/version: debian')).toEqual([1, 60, 1])
    expect(parseRcloneVersion('rclone v1.52')).toEqual([1, 52, 0])
    expect(parseRcloneVersion('something else')).toBeUndefined()
  })

  it('redactRclonePath', () => {
    expect(redactRclonePath('remote:path/to/repo')).toBe('remote:path/to/repo')
    expect(redactRclonePath('/local/path')).toBe('/local/path')
    expect(redactRclonePath('/local/a,b=c:d')).toBe('/local/a,b=c:d')
    expect(redactRclonePath(':local:/tmp/x')).toBe(':local:/tmp/x')
    expect(redactRclonePath(':s3,provider=AWS,access_key_id=AK,secret_access_key="a:b,c":bucket/r')).toBe(
      ':s3,provider=***,access_key_id=***,secret_access_key=***:bucket/r',
    )
  })
})
