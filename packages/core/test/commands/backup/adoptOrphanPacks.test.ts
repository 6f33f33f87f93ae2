import { describe, expect, it } from 'vitest'
import { formatGoTime, hashId, Key, MemoryBackend, Repository, serializePackHeader, type Node, type ReadSource } from '@rustic-ts/core/internal'

const kdf = { N: 1024, r: 8, p: 1 }
const time = formatGoTime(1_700_000_000_000_000_000n)
const base = { mtime: time, atime: time, ctime: time, uid: 0, gid: 0 }

/** `/d` with one file holding `text`. */
function source(text: string): ReadSource {
  const data = new TextEncoder().encode(text)
  return {
    size: async () => undefined,
    async *entries() {
      yield { path: '/d', node: { ...base, name: 'd', type: 'dir', mode: 2 ** 31 + 0o755, content: null } as Node }
      yield {
        path: '/d/f',
        node: { ...base, name: 'f', type: 'file', mode: 0o644, size: data.length, content: [] } as Node,
        open: async function* () {
          yield data
        },
      }
    },
  }
}

describe('packs no index names', () => {
  it('are adopted with one message; a pack that can never be adopted is left to check, with no warning now or later', async () => {
    const backend = new MemoryBackend()
    const repo = await Repository.init({}, { repository: backend }, { password: 'pw' }, { kdf })
    const first = await (await repo.toIndexed()).backup(source('first '.repeat(1000)), { snapshotPaths: ['/d'] })
    expect(first).toBeDefined()
    // the index loses its packs (as when an index file is gone), and a pack sealed with another key appears
    for (const id of await backend.list('index')) await backend.remove('index', id, true)
    const foreignKey = Key.random()
    const blob = foreignKey.encrypt(new TextEncoder().encode('foreign'))
    const header = foreignKey.encrypt(serializePackHeader([{ type: 'data', id: hashId(new TextEncoder().encode('foreign')), offset: 0, length: blob.length }]))
    const len = Buffer.alloc(4)
    len.writeUInt32LE(header.length)
    const foreign = Buffer.concat([blob, header, len])
    await backend.writeBytes('pack', hashId(foreign), false, foreign)

    const warnings: string[] = []
    const onWarning = (m: string): void => {
      warnings.push(m)
    }
    await (await repo.toIndexed()).backup(source('second'), { snapshotPaths: ['/d'] }, { onWarning })
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toMatch(/^found 2 pack\(s\) \(\d+ blobs\) that no index named \(left by an interrupted backup, or lost from the index\)/)
    expect(warnings.join('\n')).not.toContain(hashId(foreign))

    warnings.length = 0
    await (await repo.toIndexed()).backup(source('third'), { snapshotPaths: ['/d'] }, { onWarning })
    expect(warnings).toEqual([])
    // still there, never indexed: for check to report and prune to remove
    expect(await backend.list('pack')).toContain(hashId(foreign))
    const indexed = await repo.toIndexed()
    expect(indexed.index.packs().has(hashId(foreign))).toBe(false)
  })
})
