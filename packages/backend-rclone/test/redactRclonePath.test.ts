import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RcloneBackend } from '@rustic-ts/backend-rclone'
import { redactRclonePath, redactRcloneText } from '../src/redactRclonePath.js'

const NO_CONFIG = ['--config', '/dev/null']
const SECRET = 'S3CRET"pw\\x'

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rustic-ts-rclone-secrets-'))
})
afterAll(async () => {
  await rm(dir, { recursive: true, force: true })
})

/** Runs a failing call on a backend for `remote` and collects everything it printed or threw. */
async function everythingShown(remote: string): Promise<string> {
  const lines: string[] = []
  const b = new RcloneBackend(remote, { rcloneArgs: NO_CONFIG, onStderr: (l) => lines.push(l) })
  try {
    const err = await b.create().then(
      () => new Error('expected a failure'),
      (e: unknown) => e as Error,
    )
    return [b.location(), err.message, ...lines].join('\n')
  } finally {
    await b.close()
  }
}

describe('rclone secrets', () => {
  it('redactRclonePath hides every parameter value, also after an unquoted URL', () => {
    expect(redactRclonePath('remote:path/to/repo')).toBe('remote:path/to/repo')
    expect(redactRclonePath('/local/a,b=c:d')).toBe('/local/a,b=c:d')
    expect(redactRclonePath(':s3,provider=AWS,secret_access_key="a:b,c""d":bucket/r')).toBe(':s3,provider=***,secret_access_key=***:bucket/r')
    expect(redactRclonePath(':webdav,url=http://127.0.0.1:1/,user=bob,pass=SECRET:repo')).toBe(
      ':webdav,url=***://127.0.0.1:1/,user=***,pass=***:repo',
    )
  })

  it('redactRcloneText redacts by the values, however rclone quotes or escapes them', () => {
    const path = `:webdav,url="http://127.0.0.1:1/",user=bob,pass='${SECRET}':repo`
    const goQuoted = JSON.stringify(path)
    for (const text of [path, `Failed to create file system for ${goQuoted}: bad`, `pass=${JSON.stringify(SECRET)}`, encodeURIComponent(SECRET)]) {
      const out = redactRcloneText(text, path)
      expect(out).not.toContain('S3CRET')
    }
    expect(redactRcloneText(`Failed for ${goQuoted}: x`, path)).toBe(`Failed for "${redactRclonePath(path)}": x`)
  })

  it('no password of a webdav connection string reaches an error, a location or a log line (quoted and unquoted URL)', async () => {
    for (const remote of [
      ':webdav,url="http://127.0.0.1:1/",user=bob,pass=SECRET-PASS-1:repo',
      ':webdav,url=http://127.0.0.1:1/,user=bob,pass=SECRET-PASS-2:repo',
      `:webdav,url='http://127.0.0.1:1/',user=bob,pass='${SECRET}':repo`,
    ]) {
      const shown = await everythingShown(remote)
      expect(shown).not.toMatch(/SECRET-PASS|S3CRET/)
      expect(shown).toContain('pass=***')
    }
  })

  it('rclone gets no RUSTIC_*/RESTIC_* secrets in its environment', async () => {
    const saved = { ...process.env }
    process.env['RUSTIC_PASSWORD'] = 'ENV-SECRET-1'
    process.env['RESTIC_PASSWORD_COMMAND'] = 'echo ENV-SECRET-2'
    process.env['RUSTIC_REPOSITORY'] = 'rest:http://u:ENV-SECRET-3@127.0.0.1:1/'
    process.env['RUSTIC_HARMLESS'] = 'kept'
    const b = new RcloneBackend(join(dir, 'repo'), { rcloneArgs: NO_CONFIG })
    try {
      await b.start()
      const environ = await readFile(`/proc/${b.pid}/environ`, 'utf8')
      expect(environ).not.toContain('ENV-SECRET')
      expect(environ).toContain('RUSTIC_HARMLESS=kept')
    } finally {
      await b.close()
      for (const k of ['RUSTIC_PASSWORD', 'RESTIC_PASSWORD_COMMAND', 'RUSTIC_REPOSITORY', 'RUSTIC_HARMLESS']) {
        if (saved[k] === undefined) delete process.env[k]
        else process.env[k] = saved[k]
      }
    }
  })
})
