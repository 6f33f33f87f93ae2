import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  createKeyFile,
  goJsonIndent,
  goTimeShortest,
  hashId,
  parseConfig,
  parseKeyFile,
  resticCatConfigJson,
  resticCatKeyJson,
  resticCatSnapshotJson,
  CONFIG_ID,
  type Repository,
} from '@rustic-ts/core/internal'
import { openIndexed, restic, resticRepoWith, tempDir } from '../commands/helpers.js'

let tmp: Awaited<ReturnType<typeof tempDir>>
let repoPath: string
let repo: Repository

beforeAll(async () => {
  tmp = await tempDir('rustic-cat-')
  await mkdir(join(tmp.path, 'src'))
  await writeFile(join(tmp.path, 'src', 'a.txt'), 'a\n')
  repoPath = join(tmp.path, 'repo')
  await resticRepoWith(repoPath, tmp.path, 'src', 2)
  repo = (await openIndexed(repoPath)).repo
})
afterAll(async () => tmp?.remove())

describe('restic cat output', () => {
  it("goTimeShortest prints a parsed time as Go does; goJsonIndent indents as Go's MarshalIndent", () => {
    expect(goTimeShortest('2026-01-01T10:00:00.523952200+02:00')).toBe('2026-01-01T10:00:00.5239522+02:00')
    expect(goTimeShortest('2026-01-01T10:00:00.000000000Z')).toBe('2026-01-01T10:00:00Z')
    expect(goTimeShortest('2026-01-01T10:00:00.1-00:00')).toBe('2026-01-01T10:00:00.1Z')
    expect(goTimeShortest('not a time')).toBe('not a time')
    expect(goJsonIndent('{"a":[],"b":{},"c":["x,\\"]{",1],"d":{"e":null}}')).toBe(
      '{\n  "a": [],\n  "b": {},\n  "c": [\n    "x,\\"]{",\n    1\n  ],\n  "d": {\n    "e": null\n  }\n}',
    )
  })

  it('config, key and snapshot print as restic cat prints them, for restic files and rustic ones', async () => {
    const configOut = (await restic(repoPath, ['cat', 'config'])).trimEnd()
    expect(resticCatConfigJson(parseConfig(repo.key.decrypt(await repo.backend.readFull('config', CONFIG_ID), 'config')))).toBe(configOut)

    // a rustic snapshot: nine fraction digits, rustic's own fields
    const rusticId = await repo.saveSnapshot({
      time: '2026-01-01T10:00:00.523952200+02:00',
      tree: (await repo.getSnapshots())[0]!.tree,
      paths: ['/src'],
      hostname: 'h<&>',
      username: 'u',
      uid: 1000,
      gid: 0,
      excludes: [],
      tags: ['t'],
      label: 'rustic label',
      programVersion: 'rustic v0.9.0',
    })
    for (const snap of await repo.getSnapshots()) {
      const theirs = (await restic(repoPath, ['cat', 'snapshot', snap.id!])).trimEnd()
      expect(resticCatSnapshotJson(snap)).toBe(theirs)
    }
    expect((await restic(repoPath, ['cat', 'snapshot', rusticId]))).toContain('"time": "2026-01-01T10:00:00.5239522+02:00"')

    // a key file as rustic writes it (no created, user or host) next to restic's own
    const { keyFile } = await createKeyFile(repo.key, 'rustic-pw', { kdf: { N: 1024, r: 8, p: 1 } })
    const bytes = new TextEncoder().encode(JSON.stringify({ kdf: 'scrypt', N: 1024, r: 8, p: 1, data: keyFile.data, salt: keyFile.salt }))
    await repo.backend.writeBytes('key', hashId(bytes), false, bytes)
    for (const id of await repo.backend.list('key')) {
      const theirs = (await restic(repoPath, ['cat', 'key', id])).trimEnd()
      expect(resticCatKeyJson(parseKeyFile(await repo.backend.readFull('key', id), `key ${id}`))).toBe(theirs)
    }
    expect(await restic(repoPath, ['cat', 'key', hashId(bytes)])).toContain('"created": "0001-01-01T00:00:00Z"')
  })
})
