import { execFile } from 'node:child_process'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { BackendError, CONFIG_ID } from '@rustic-ts/core'
import { RestBackend } from '@rustic-ts/backend-rest'
import { startRcloneRestServer } from '../rcloneServer.js'
import type { RcloneRestServer } from '../rcloneServer.js'

const run = promisify(execFile)

describe('RestBackend over HTTPS (rclone serve restic --cert/--key)', () => {
  let dir: string
  let server: RcloneRestServer
  let httpsUrl: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rustic-rest-tls-'))
    const [cert, key] = [join(dir, 'cert.pem'), join(dir, 'key.pem')]
    await run('openssl', [
      'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes',
      '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    ])
    server = await startRcloneRestServer(join(dir, 'repo'), ['--cert', cert, '--key', key])
    httpsUrl = `https://127.0.0.1:${server.port}/`
  })
  afterAll(async () => {
    await server?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('works with the CA file, fails without it (not transient), works with insecureTls', async () => {
    const b = new RestBackend(httpsUrl, { caFile: join(dir, 'cert.pem') })
    await b.create()
    await b.writeBytes('config', CONFIG_ID, true, new Uint8Array([42]))
    expect(Array.from(await b.readFull('config', CONFIG_ID))).toEqual([42])
    expect(b.location()).toBe(`rest:${httpsUrl}`)
    await b.close()

    const untrusted = new RestBackend(httpsUrl)
    const err = await untrusted.list('config').then(
      () => expect.fail('an untrusted certificate must fail'),
      (e: unknown) => e as BackendError,
    )
    expect(err).toBeInstanceOf(BackendError)
    expect(err.backendKind).toBe('Network')
    expect(err.isTransient).toBe(false)
    await untrusted.close()

    const insecure = new RestBackend(httpsUrl, { insecureTls: true })
    expect(await insecure.list('config')).toEqual([CONFIG_ID])
    await insecure.close()

    const missingCa = new RestBackend(httpsUrl, { caFile: join(dir, 'nope.pem') })
    await expect(missingCa.list('config')).rejects.toMatchObject({ kind: 'Configuration' })
    await missingCa.close()
  })
})
