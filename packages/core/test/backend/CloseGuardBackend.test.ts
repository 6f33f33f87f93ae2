import { describe, expect, it } from 'vitest'
import { isRusticError, StreamSource } from '@rustic-ts/core'
import { memoryRepo } from '../repository/lock/helpers.js'

const errorOf = (p: Promise<unknown>): Promise<unknown> => p.then(() => undefined, (e: unknown) => e)

describe('a closed repository', () => {
  it('fails every later call with RepositoryClosed naming the repository; closing again is fine', async () => {
    const { repo } = await memoryRepo()
    const indexed = await repo.toIndexed()
    const r = await indexed.backup(new StreamSource(async function* () { yield new Uint8Array(1000) }, 'f'))
    const { node } = await indexed.resolveSnapshotPath('latest')
    const other = repo.withCompression('max')
    await repo.close()
    await repo.close()
    const calls: Array<[string, () => Promise<unknown>]> = [
      ['getSnapshots', () => repo.getSnapshots()],
      ['findSnapshot', () => repo.findSnapshot(r.snapshot.id!)],
      ['toIndexed', () => repo.toIndexed()],
      ['lock', () => repo.lock('shared')],
      ['listKeys', () => repo.listKeys()],
      ['check', () => repo.check()],
      ['withCompression', () => other.getSnapshots()],
      ['backup', () => indexed.backup(new StreamSource(async function* () { yield new Uint8Array(10) }, 'g'))],
      ['walk (cached trees)', async () => { for await (const _ of indexed.walk(node, '')) void _ }],
      ['getBlob', () => indexed.getBlob('tree', r.snapshot.tree)],
    ]
    for (const [what, call] of calls) {
      const err = await errorOf(call())
      expect(isRusticError(err, 'RepositoryClosed'), `${what}: ${String(err)}`).toBe(true)
      expect((err as Error).message).toMatch(/^the repository at memory:.* is closed: open it again to use it$/)
    }
  })
})
