import { spawn } from 'node:child_process'
import type { ChildProcess } from 'node:child_process'
import { mkdir, readFile, readdir, writeFile } from 'node:fs/promises'
import { request } from 'node:http'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CLI, restic, run, rustic, tempDir } from '../helpers/restic.js'
import { treeFacts } from '../helpers/treeCompare.js'

/** A running `rustic-ts serve` and the URL it printed. */
interface Served {
  url: string
  child: ChildProcess
  /** Sends SIGTERM and resolves with the exit code. */
  stop: () => Promise<number>
}

/** Starts `rustic-ts serve ARGS` and waits for the line naming its URL. */
function serve(args: string[]): Promise<Served> {
  return new Promise((resolve, reject) => {
    const child = spawn(CLI, ['serve', '--listen', '127.0.0.1:0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stderr = ''
    const exited = new Promise<number>((r) => child.on('close', (code) => r(code ?? -1)))
    child.stdout.resume()
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString()
      const m = / on (https?:\/\/\S+\/) /.exec(stderr)
      if (m) resolve({ url: m[1]!, child, stop: () => (child.kill('SIGTERM'), exited) })
    })
    void exited.then((code) => reject(new Error(`rustic-ts serve exited (${code}) before serving: ${stderr}`)))
  })
}

/** `rest:` URL with credentials for restic. */
const repoUrl = (url: string, creds: string, path: string): string => `rest:${url.replace('://', `://${creds}@`)}${path}`

function httpStatus(url: string, method: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const r = request(url, { method }, (res) => {
      res.resume()
      resolve(res.statusCode ?? 0)
    })
    r.on('error', reject)
    r.end()
  })
}

describe('rustic-ts serve', () => {
  let tmp: { path: string; remove: () => Promise<void> }
  let data: string
  let htpasswd: string
  beforeAll(async () => {
    tmp = await tempDir('rustic-serve-')
    data = join(tmp.path, 'data')
    await mkdir(join(data, 'd'), { recursive: true })
    for (let i = 0; i < 30; i++) await writeFile(join(data, 'd', `f${i}`), `content ${i}\n`.repeat(i * 50 + 1))
    // SHA entry as `htpasswd -s` writes it: user "restic", password "password"
    htpasswd = join(tmp.path, 'htpasswd')
    await writeFile(htpasswd, 'restic:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n')
  })
  afterAll(async () => {
    await tmp.remove()
  })

  it('--path with --tls and --log: restic init, backup, restore over HTTPS; SIGTERM exits 0; no password in the log', async () => {
    const cert = join(tmp.path, 'cert.pem')
    const key = join(tmp.path, 'key.pem')
    const ssl = await run('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1'])
    expect(ssl.code, ssl.stderr).toBe(0)
    const root = join(tmp.path, 'root')
    const log = join(tmp.path, 'access.log')
    const s = await serve(['--path', root, '--htpasswd-file', htpasswd, '--tls', '--tls-cert', cert, '--tls-key', key, '--log', log, '--private-repos'])
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/$/)
    try {
      const repo = repoUrl(s.url, 'restic:password', 'restic/')
      await restic(repo, ['--cacert', cert, 'init'])
      await restic(repo, ['--cacert', cert, 'backup', data])
      const target = join(tmp.path, 'restore')
      await restic(repo, ['--cacert', cert, 'restore', 'latest', '--target', target])
      expect(await treeFacts(join(target, data))).toEqual(await treeFacts(data))
      expect((await readdir(join(root, 'restic', 'snapshots'))).length).toBe(1)
    } finally {
      expect(await s.stop()).toBe(0)
    }
    const lines = (await readFile(log, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { user?: string; method: string; status: number })
    expect(lines.some((l) => l.method === 'POST' && l.status === 200 && l.user === 'restic')).toBe(true)
    expect(await readFile(log, 'utf8')).not.toMatch(/password|cmVzdGlj/)
  })

  it('--config --backend: serves an OpenDAL memory backend with the [server] settings of the file', async () => {
    const config = join(tmp.path, 'server.toml')
    await writeFile(
      config,
      [
        '[server]',
        'append-only = true',
        'htpasswd-file = "htpasswd"',
        '',
        '[backends.disk]',
        'repository = "disk-root"',
        '',
        '[backends.mem]',
        'repository = "opendal:memory"',
        'options = { root = "/restic" }',
      ].join('\n'),
    )
    const s = await serve(['--config', config, '--backend', 'mem'])
    try {
      const repo = repoUrl(s.url, 'restic:password', 'team/box/')
      await restic(repo, ['init'])
      await restic(repo, ['backup', data])
      await restic(repo, ['check', '--read-data'])
      const snaps = JSON.parse((await restic(repo, ['snapshots', '--json'])).toString()) as Array<{ id: string }>
      expect(snaps).toHaveLength(1)
      // append-only from the file: DELETE of a snapshot is refused
      const del = `${s.url.replace('://', '://restic:password@')}team/box/snapshots/${snaps[0]!.id}`
      expect(await httpStatus(del, 'DELETE')).toBe(403)
      expect(await httpStatus(`${s.url}team/box/keys/`, 'GET')).toBe(401)
    } finally {
      expect(await s.stop()).toBe(0)
    }
  })

  it('refuses bad invocations with one clear line', async () => {
    const bad = join(tmp.path, 'bad.toml')
    await writeFile(bad, '[server]\nappend_only = true\n')
    const two = join(tmp.path, 'two.toml')
    await writeFile(two, '[backends.a]\nrepository = "/x"\n[backends.b]\nrepository = "/y"\n')
    const cases: Array<[string[], RegExp]> = [
      [[], /nothing to serve: give --path DIR or --config FILE/],
      [['--config', bad], /bad\.toml: server: unknown key "append_only"/],
      [['--config', two], /choose one of the backends .* with --backend: a, b/],
      [['--config', two, '--backend', 'c'], /has no backend "c": it has a, b/],
      [['--config', two, '--backend', 'a'], /no htpasswd file: give --htpasswd-file FILE \(or --no-auth\)/],
      [['--path', tmp.path, '--listen', 'nonsense'], /invalid listen address "nonsense"/],
      [['--path', join(tmp.path, 'none')], /cannot read htpasswd file .*none\/\.htpasswd \(use --no-auth/],
      [['--path', tmp.path, '--no-auth', '--tls-cert', 'x'], /--tls-cert and --tls-key require --tls/],
      [['--path', tmp.path, '--no-auth', '--max-size', '10Q'], /invalid --max-size "10Q": expected e\.g\. 500, 10k/],
    ]
    for (const [args, message] of cases) {
      const r = await rustic(['serve', ...args])
      expect(r.code, args.join(' ')).toBe(1)
      expect(r.stderr, args.join(' ')).toMatch(message)
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1)
    }
  })
})
