/**
 * A backup to a REST server that goes away for several seconds mid-backup and comes back on the same
 * port: the default retries (by elapsed time) carry it through, and restic accepts the result.
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { StreamSource, initRepository, openRepository } from 'rustic-ts'
import { startRcloneRestServer, type RcloneRestServer } from '../../../backend-rest/test/rcloneServer.js'
import { PASSWORD, restic, tempDir } from '../helpers/restic.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let server: RcloneRestServer | undefined

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-rest-outage-')
})

afterAll(async () => {
  await server?.stop()
  await tmp?.remove()
})

const OUTAGE_MS = 5000

describe('REST outage', () => {
  it(`a backup survives the server being down for ${OUTAGE_MS / 1000} s`, async () => {
    const dir = join(tmp.path, 'repo')
    server = await startRcloneRestServer(dir)
    const port = server.port
    const backend = { repository: `rest:http://127.0.0.1:${port}/` }
    const repo = await initRepository({ noCache: true }, backend, { password: PASSWORD }, { kdf: { N: 1024, r: 8, p: 1 } })
    await repo.close()

    const warnings: string[] = []
    const opened = await openRepository({ noCache: true, onWarning: (m) => warnings.push(m) }, backend, { password: PASSWORD })
    const parts = [randomBytes(6 << 20), randomBytes(6 << 20), randomBytes(6 << 20)]
    let restarted: Promise<void> | undefined
    const source = new StreamSource(async function* () {
      yield parts[0]!
      // the server goes away; it comes back on the same port while the backup goes on
      await server!.stop()
      restarted = new Promise<void>((resolve, reject) =>
        setTimeout(() => {
          startRcloneRestServer(dir, ['--addr', `127.0.0.1:${port}`]).then((s) => {
            server = s
            resolve()
          }, reject)
        }, OUTAGE_MS),
      )
      yield parts[1]!
      yield parts[2]!
    }, 'big.bin')
    const indexed = await opened.toIndexed()
    const result = await indexed.backup(source)
    await restarted
    expect(result.saved).toBe(true)
    // the outage was seen and waited out
    expect(warnings.some((w) => /failed .*; retry \d+ in \d+ ms$/.test(w))).toBe(true)

    const { node } = await indexed.resolveSnapshotPath(`${result.snapshot.id}:/big.bin`)
    const back: Uint8Array[] = []
    for await (const p of indexed.readFile(node)) back.push(p)
    expect(Buffer.concat(back).equals(Buffer.concat(parts))).toBe(true)
    await opened.close()
    expect((await restic(dir, ['check', '--read-data'])).toString()).toContain('no errors were found')
  })
})
