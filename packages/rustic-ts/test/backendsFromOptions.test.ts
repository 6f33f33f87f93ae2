/**
 * Issue 6: repository strings. `backendsFromOptions` turns a path, `local:`, `rest:`, `rclone:` and
 * `opendal:` strings plus options into backends; the CLI's `-r` / `--repo-hot` / `--opendal KEY=VALUE`
 * use it; credentials in a URL never show in `location()`, errors or logs.
 */
import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  backendFromString,
  backendsFromOptions,
  BackendError,
  CONFIG_ID,
  LocalBackend,
  OpenDalBackend,
  openRepository,
  RcloneBackend,
  RestBackend,
  RetryBackend,
  RusticError,
  type WriteBackend,
} from 'rustic-ts'
import { parseDurationMs, schemeOf } from '../src/backendsFromOptions.js'
import { describeBackendConformance } from '@rustic-ts/backend-testkit'
import { startRcloneRestServer, type RcloneRestServer } from '../../backend-rest/test/rcloneServer.js'
import { PASSWORD, rustic, rusticOk, tempDir } from './helpers/restic.js'

const run = promisify(execFile)
const SECRET = 'S3cr3t-Pa55'

let tmp: Awaited<ReturnType<typeof tempDir>>
const stops: Array<() => Promise<void>> = []

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-strings-')
})
afterAll(async () => {
  for (const s of stops.reverse()) await s().catch(() => {})
  await tmp?.remove()
})

/** The error a promise rejects with (fails the test if it resolves). */
async function rejection(p: Promise<unknown>): Promise<RusticError> {
  return p.then(
    () => expect.fail('expected a rejection') as never,
    (e: unknown) => e as RusticError,
  )
}

function thrown(fn: () => unknown): RusticError {
  try {
    fn()
  } catch (e) {
    return e as RusticError
  }
  return expect.fail('expected an error') as never
}

/** A TCP server that accepts connections and never answers. */
async function silentServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const sockets = new Set<Socket>()
  const srv: Server = createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
  })
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  return {
    port,
    stop: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy()
        srv.close(() => r())
      }),
  }
}

/** A free port nothing listens on. */
async function closedPort(): Promise<number> {
  const s = await silentServer()
  await s.stop()
  return s.port
}

describe('backendsFromOptions', () => {
  it('resolves a path and local:PATH to a local backend without retries', () => {
    for (const repo of [join(tmp.path, 'repo'), `local:${join(tmp.path, 'repo')}`, 'relative/repo', 'local:relative/repo', 'LOCAL:rel']) {
      const { repository, repoHot } = backendsFromOptions({ repository: repo })
      expect(repository).toBeInstanceOf(LocalBackend)
      expect(repoHot).toBeUndefined()
      expect(repository.location()).toBe(`local:${resolve(repo.replace(/^local:/i, ''))}`)
    }
    expect(schemeOf('./odd:name')).toBe('local')
    // retries for local only when asked
    expect(backendFromString(tmp.path, { retries: '2' })).toBeInstanceOf(RetryBackend)
    expect(backendFromString(tmp.path, { 'retry-timeout': '90s' })).toBeInstanceOf(RetryBackend)
    expect(() => backendFromString(tmp.path, { 'retry-timeout': 'soon' })).toThrow(/invalid backend option retry-timeout="soon"/)
  })

  it('resolves rest:, rclone: and opendal: with retries, and never shows credentials', () => {
    const rest = backendsFromOptions({ repository: `rest:http://user:${SECRET}@127.0.0.1:8000/repo` }).repository
    expect(rest).toBeInstanceOf(RetryBackend)
    expect((rest as RetryBackend).inner).toBeInstanceOf(RestBackend)
    expect(rest.location()).toBe('rest:http://user@127.0.0.1:8000/repo/')

    const rclone = backendFromString(`rclone::s3,provider=Minio,secret_access_key=${SECRET}:bucket/repo`)
    expect((rclone as RetryBackend).inner).toBeInstanceOf(RcloneBackend)
    expect(rclone.location()).toMatch(/^rclone:/)
    expect(rclone.location()).not.toContain(SECRET)

    const s3 = backendFromString('opendal:s3', {
      bucket: 'b',
      root: '/repo',
      region: 'us-east-1',
      endpoint: 'http://127.0.0.1:9',
      access_key_id: 'AKID',
      secret_access_key: SECRET,
    })
    const inner = (s3 as RetryBackend).inner as OpenDalBackend
    expect(inner).toBeInstanceOf(OpenDalBackend)
    expect(inner.options.retries).toBe(0) // one retry layer: core's
    expect(s3.location()).toBe('opendal:s3:b/repo')
    // opendal's own retry layer when `retry` is given, core's off with retries=0
    const own = backendFromString('opendal:memory', { retry: '2', retries: '0' })
    expect(own).toBeInstanceOf(OpenDalBackend)
    expect((own as OpenDalBackend).options.retries).toBe(2)

    const both = backendsFromOptions({ repository: 'opendal:memory', repoHot: join(tmp.path, 'hot') })
    expect(both.repository.location()).toMatch(/^opendal:memory/)
    expect(both.repoHot).toBeInstanceOf(LocalBackend)
  })

  it('rejects unknown schemes, unknown options and bad values without echoing the string', () => {
    const e1 = thrown(() => backendsFromOptions({ repository: `sftp://user:${SECRET}@host/repo` }))
    expect(e1).toBeInstanceOf(RusticError)
    expect(e1.code).toBe('UnsupportedBackend')
    expect(e1.message).toContain('"sftp:"')
    expect(e1.message).not.toContain(SECRET)
    expect(thrown(() => backendsFromOptions({ repository: '' })).code).toBe('NoRepository')

    const e2 = thrown(() => backendsFromOptions({ repository: 'rest:http://127.0.0.1:1/', options: { bucket: 'x' } }))
    expect(e2.code).toBe('UnknownOption')
    expect(e2.message).toMatch(/"bucket".*rest:.*cacert/)
    // an option of the hot backend's kind is fine
    expect(() =>
      backendsFromOptions({ repository: 'rest:http://127.0.0.1:1/', repoHot: tmp.path, options: { 'post-create-command': 'true %file' } }),
    ).not.toThrow()

    for (const [k, v] of [
      ['retries', 'many'],
      ['timeout', 'soon'],
      ['timeout', '0'],
      ['connections', '0'],
      ['insecure-tls', 'maybe'],
    ] as const) {
      const e = thrown(() => backendFromString('rest:http://127.0.0.1:1/', { [k]: v }))
      expect(e.code, `${k}=${v}`).toBe('InvalidOptions')
    }
    const bad = thrown(() => backendFromString(`rest:http://user:${SECRET}@[bad/`))
    expect(bad.kind).toBe('Configuration')
    expect(bad.message).not.toContain(SECRET)
  })

  it('parses durations: seconds, ms and humantime', () => {
    expect(parseDurationMs('30')).toBe(30_000)
    expect(parseDurationMs('1.5')).toBe(1500)
    expect(parseDurationMs('250ms')).toBe(250)
    expect(parseDurationMs('2m30s')).toBe(150_000)
    expect(parseDurationMs('1h')).toBe(3_600_000)
  })

  it('timeout and retries reach the REST backend; retry logs and errors carry no credentials', async () => {
    const silent = await silentServer()
    stops.push(silent.stop)
    const warnings: string[] = []
    const { repository } = backendsFromOptions({
      repository: `rest:http://user:${SECRET}@127.0.0.1:${silent.port}/repo/`,
      options: { timeout: '300ms', retries: '2' },
      onWarning: (m) => warnings.push(m),
    })
    const started = Date.now()
    const err = await rejection(repository.list('snapshot'))
    expect(Date.now() - started).toBeLessThan(10_000) // not the 2-minute default
    expect(err).toBeInstanceOf(BackendError)
    expect((err as BackendError).backendKind).toBe('Network')
    expect(warnings.length).toBe(2)
    expect(warnings[0]).toMatch(/^list snapshot on rest:http:\/\/user@127\.0\.0\.1:\d+\/repo\/ failed .*; retry 1\/2 in \d+ ms$/)
    for (const text of [err.message, String(err.cause), ...warnings]) expect(text).not.toContain(SECRET)
    await repository.close?.()

    // connection refused, through openRepository: no retries asked, typed error, no secret
    const port = await closedPort()
    const err2 = await rejection(
      openRepository({}, { repository: `rest:http://user:${SECRET}@127.0.0.1:${port}/`, options: { retries: 'off' } }, { password: PASSWORD }),
    )
    expect(err2).toBeInstanceOf(BackendError)
    expect(err2.message).toContain(`rest:http://user@127.0.0.1:${port}/`)
    expect(err2.message).not.toContain(SECRET)
  })

  it('cacert and insecure-tls reach the REST backend (https with a self-signed certificate)', async () => {
    const dir = join(tmp.path, 'tls')
    await mkdir(dir)
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')]
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ])
    const server = await startRcloneRestServer(join(dir, 'repo'), ['--cert', cert, '--key', key])
    stops.push(server.stop)
    const url = `rest:https://127.0.0.1:${server.port}/`
    const use = async (b: WriteBackend): Promise<void> => {
      await b.create()
      await b.writeBytes('config', CONFIG_ID, false, new Uint8Array([1]))
      expect(await b.list('config')).toEqual([CONFIG_ID])
      await b.close?.()
    }
    await use(backendFromString(url, { cacert: cert }))
    await use(backendFromString(url, { insecure_tls: 'true' }))
    const untrusted = backendFromString(url, { retries: '0' })
    expect((await rejection(untrusted.list('config'))).message).toMatch(/certificate/i)
    await untrusted.close?.()
  })
})

describe('the CLI with rest: credentials (rclone serve restic --user/--pass)', () => {
  let server: RcloneRestServer
  let data: string
  beforeAll(async () => {
    server = await startRcloneRestServer(join(tmp.path, 'auth-repo'), ['--user', 'alice', '--pass', SECRET])
    stops.push(server.stop)
    data = join(tmp.path, 'data')
    await mkdir(data)
    await writeFile(join(data, 'a.txt'), 'hello\n')
  })

  it('works with the credentials in the URL and never prints them', async () => {
    const repo = `rest:http://alice:${SECRET}@127.0.0.1:${server.port}/`
    const init = (await rusticOk(['-r', repo, 'init'])).toString()
    expect(init).toContain(`at rest:http://alice@127.0.0.1:${server.port}/`)
    const backup = await rustic(['-r', repo, '--no-cache', '--opendal', 'timeout=20s', 'backup', data])
    expect(backup.code).toBe(0)
    const snaps = await rustic(['-r', repo, '--no-cache', 'snapshots'])
    expect(snaps.code).toBe(0)
    for (const r of [backup, snaps]) expect(r.stdout.toString() + r.stderr).not.toContain(SECRET)

    // wrong password: a permission error naming the location, without either password
    const wrong = await rustic(['-r', `rest:http://alice:WrongPa55@127.0.0.1:${server.port}/`, '--no-cache', 'snapshots'])
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/^rustic-ts: error: .*rest:http:\/\/alice@127\.0\.0\.1:\d+\//)
    expect(wrong.stderr).not.toContain('WrongPa55')

    // server gone, with retries and debugging output on: still no password
    const port = await closedPort()
    const gone = await rustic(['-r', `rest:http://alice:${SECRET}@127.0.0.1:${port}/`, '--no-cache', '--opendal', 'retries=1', 'snapshots'], {
      RUSTIC_DEBUG: '1',
    })
    expect(gone.code).toBe(1)
    expect(gone.stderr).toMatch(/rest:http:\/\/alice@127\.0\.0\.1/)
    expect(gone.stderr).not.toContain(SECRET)

    // an option no backend in use understands
    const unknown = await rustic(['-r', repo, '--opendal', 'bucket=x', 'snapshots'])
    expect(unknown.code).toBe(1)
    expect(unknown.stderr).toMatch(/unknown backend option "bucket"/)
  })
})

// The backends that repository strings make (decorated with retries) are backends like any other.
describeBackendConformance(
  'backendFromString("rest:http://user:pass@...") (retry decorator over RestBackend)',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-strings-conf-'))
    const server = await startRcloneRestServer(join(dir, 'repo'), ['--user', 'bob', '--pass', SECRET])
    return {
      backend: backendFromString(`rest:http://bob:${SECRET}@127.0.0.1:${server.port}/`, { timeout: '30s', connections: '4' }),
      secrets: [SECRET],
      cleanup: async () => {
        await server.stop()
        await rm(dir, { recursive: true, force: true })
      },
    }
  },
  { largeFileSize: 4 * 1024 * 1024, concurrency: 16 },
)

describeBackendConformance(
  'backendFromString("opendal:fs") with options',
  async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rustic-ts-strings-conf-'))
    return {
      backend: backendFromString('opendal:fs', { root: join(dir, 'repo'), retries: '2' }),
      cleanup: () => rm(dir, { recursive: true, force: true }),
    }
  },
  { largeFileSize: 4 * 1024 * 1024, concurrency: 16 },
)
