import { mkdtemp, readdir, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CONFIG_ID, isRusticError, MemoryBackend, parseConfig, Repository, type ErrorCode, type FileType, type Id } from '@rustic-ts/core/internal'
import { fastKdf, filesOf, snapshotOf } from '../memorySnapshots.js'

/** A backend that refuses to overwrite the config, as rest-server does. */
class NoOverwriteBackend extends MemoryBackend {
  override async writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array): Promise<void> {
    if (type === 'config' && (await this.list('config')).length > 0) {
      const { BackendError } = await import('@rustic-ts/core/internal')
      throw new BackendError('PermissionDenied', 'config exists')
    }
    return super.writeBytes(type, id, cacheable, data)
  }
}

async function configBackups(): Promise<string[]> {
  return (await readdir(tmpdir())).filter((n) => n.startsWith('rustic-ts-config-'))
}

describe('applyConfig', () => {
  // A private temporary directory: other test processes write and remove config copies in the shared one.
  const sharedTmp = process.env.TMPDIR
  let privateTmp = ''
  beforeAll(async () => {
    privateTmp = await mkdtemp(join(tmpdir(), 'applyConfig-test-'))
    process.env.TMPDIR = privateTmp
  })
  afterAll(async () => {
    if (sharedTmp === undefined) delete process.env.TMPDIR
    else process.env.TMPDIR = sharedTmp
    await rm(privateTmp, { recursive: true, force: true })
  })

  it('upgrades version 1 to 2 after checking the repository; old data stays readable, new data is compressed', async () => {
    const backend = new NoOverwriteBackend()
    const repo = await Repository.init({}, { repository: backend }, { password: 'pw' }, { version: 1, kdf: fastKdf })
    const before = await configBackups()
    const old = await snapshotOf(await repo.toIndexed(), { 'a.txt': { data: 'a'.repeat(10_000) } })
    const result = await repo.applyConfig({ setVersion: 2, setCompression: 5 })
    expect(result).toMatchObject({ changed: true, previous: { version: 1 }, config: { version: 2, compression: 5 } })
    expect(repo.config.version).toBe(2)
    expect(await configBackups()).toEqual(before)
    const stored = parseConfig(repo.key.decrypt(await backend.readFull('config', CONFIG_ID), 'config'))
    expect(stored).toMatchObject({ version: 2, compression: 5, id: repo.id, chunkerPolynomial: repo.config.chunkerPolynomial })

    const reopened = await (await Repository.open({}, { repository: backend }, { password: 'pw' })).toIndexed()
    expect(await filesOf(reopened, old)).toEqual({ '/a.txt': 'a'.repeat(10_000) })
    const fresh = await snapshotOf(reopened, { 'b.txt': { data: 'b'.repeat(10_000) } })
    const blob = [...reopened.index.entries('data')].map(([, loc]) => loc).find((loc) => loc.uncompressedLength === 10_000)
    expect(blob).toBeDefined()
    expect(blob!.length).toBeLessThan(1000)
    expect(await filesOf(reopened, fresh)).toEqual({ '/b.txt': 'b'.repeat(10_000) })
  })

  it('refuses invalid values, downgrades and compression in version 1, writing nothing', async () => {
    const backend = new MemoryBackend()
    const repo = await Repository.init({}, { repository: backend }, { password: 'pw' }, { version: 1, kdf: fastKdf })
    const config = await backend.readFull('config', CONFIG_ID)
    const cases: Array<[object, ErrorCode, RegExp]> = [
      [{ setVersion: 3 }, 'UnsupportedVersion', /version 3 is not supported/],
      [{ setCompression: 3 }, 'InvalidCompression', /needs a version 2 repository/],
      [{ setCompression: 99 }, 'InvalidOptions', /setCompression/],
      [{ setMinPacksizeToleratePercent: 101 }, 'InvalidOptions', /setMinPacksizeToleratePercent/],
      [{ setMaxPacksizeToleratePercent: 50 }, 'InvalidOptions', /at least 100/],
      [{ setDatapackSize: 0 }, 'InvalidOptions', /setDatapackSize/],
      [{ setAppendOnly: 'yes' }, 'InvalidOptions', /setAppendOnly/],
      [{ setCompresion: 3 }, 'InvalidOptions', /unknown option "setCompresion"/],
    ]
    for (const [options, code, message] of cases) {
      const err = await repo.applyConfig(options as never).catch((e: unknown) => e)
      expect(isRusticError(err, code), `${JSON.stringify(options)}: ${String(err)}`).toBe(true)
      expect((err as Error).message).toMatch(message)
    }
    expect(Buffer.compare(await backend.readFull('config', CONFIG_ID), config)).toBe(0)
    await repo.applyConfig({ setVersion: 2 })
    expect(isRusticError(await repo.applyConfig({ setVersion: 1 }).catch((e: unknown) => e), 'UnsupportedVersion')).toBe(true)
  })

  it('append-only: only turning it off is allowed; an unchanged config writes nothing', async () => {
    const backend = new MemoryBackend()
    const repo = await Repository.init({}, { repository: backend }, { password: 'pw' }, { kdf: fastKdf })
    await repo.applyConfig({ setDatapackSize: 8 * 1024 * 1024 })
    const stored = await backend.readFull('config', CONFIG_ID)
    expect((await repo.applyConfig({ setDatapackSize: 8 * 1024 * 1024 })).changed).toBe(false)
    expect(Buffer.compare(await backend.readFull('config', CONFIG_ID), stored)).toBe(0)
    await repo.applyConfig({ setAppendOnly: true })
    expect(isRusticError(await repo.applyConfig({ setCompression: 7 }).catch((e: unknown) => e), 'AppendOnly')).toBe(true)
    expect((await repo.applyConfig({ setAppendOnly: false })).config).toMatchObject({ appendOnly: false, datapackSize: 8 * 1024 * 1024 })
  })

  it('refuses an upgrade when the check finds a missing pack', async () => {
    const backend = new MemoryBackend()
    const repo = await Repository.init({}, { repository: backend }, { password: 'pw' }, { version: 1, kdf: fastKdf })
    await snapshotOf(await repo.toIndexed(), { 'a.txt': { data: 'hello' } })
    const pack = (await backend.list('pack'))[0]!
    await backend.remove('pack', pack, false)
    const err = await repo.applyConfig({ setVersion: 2 }).catch((e: unknown) => e)
    expect(isRusticError(err, 'CheckFailed')).toBe(true)
    expect((err as Error).message).toContain(`pack ${pack}: does not exist`)
    expect(repo.config.version).toBe(1)
  })
})
