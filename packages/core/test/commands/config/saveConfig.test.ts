import { readFile, rm } from 'node:fs/promises'
import { dirname } from 'node:path'
import { describe, expect, it } from 'vitest'
import { BackendError, CONFIG_ID, isRusticError, MemoryBackend, Repository, saveConfig, type FileType, type Id } from '@rustic-ts/core/internal'
import { fastKdf } from '../memorySnapshots.js'

/** Fails the next `failures` config writes. */
class FlakyConfigBackend extends MemoryBackend {
  failures = 0
  override async writeBytes(type: FileType, id: Id, cacheable: boolean, data: Uint8Array): Promise<void> {
    if (type === 'config' && this.failures > 0) {
      this.failures--
      throw new BackendError('Other', 'disk full')
    }
    return super.writeBytes(type, id, cacheable, data)
  }
}

describe('saveConfig', () => {
  it('puts the old config back when the new one cannot be written, and names the copy it kept', async () => {
    const backend = new FlakyConfigBackend()
    const repo = await Repository.init({}, { repository: backend }, { password: 'pw' }, { version: 1, kdf: fastKdf })
    const old = await backend.readFull('config', CONFIG_ID)
    backend.failures = 1
    const err = await saveConfig(repo, { ...repo.config, version: 2 }).catch((e: unknown) => e)
    expect(isRusticError(err, 'ConfigWriteFailed')).toBe(true)
    const message = (err as Error).message
    expect(message).toContain('disk full')
    expect(message).toContain('the old config was put back')
    const backup = /kept at (\S+)$/.exec(message)![1]!
    expect(Buffer.compare(await readFile(backup), old)).toBe(0)
    expect(Buffer.compare(await backend.readFull('config', CONFIG_ID), old)).toBe(0)
    await rm(dirname(backup), { recursive: true })
  })

  it('writes the hot copy of a hot/cold repository, marked hot', async () => {
    const cold = new MemoryBackend()
    const hot = new MemoryBackend()
    const repo = await Repository.init({}, { repository: cold, repoHot: hot }, { password: 'pw' }, { kdf: fastKdf })
    await repo.applyConfig({ setCompression: 9 })
    const again = await Repository.open({}, { repository: cold, repoHot: hot }, { password: 'pw' })
    expect(again.config).toMatchObject({ compression: 9 })
    expect(again.config.isHot).toBeUndefined()
    const hotConfig = repo.key.decrypt(await hot.readFull('config', CONFIG_ID), 'hot config')
    expect(JSON.parse(Buffer.from(hotConfig).toString())).toMatchObject({ compression: 9, is_hot: true })
  })
})
