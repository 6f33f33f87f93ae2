import { describe, expect, it } from 'vitest'
import { createKeyFile, deriveKey, hashId, isRusticError, MemoryBackend, parseKeyFile, Repository, serializeKeyFile, type Id } from '@rustic-ts/core/internal'

const fastKdf = { N: 1024, r: 8, p: 1 }
const password = 'secret-pw'
const enc = (s: string): Uint8Array => new TextEncoder().encode(s)

/** Replaces the only key file of `repo` by `keys` (raw key file texts). */
async function replaceKeys(backend: MemoryBackend, repo: Repository, ...keys: string[]): Promise<{ backend: MemoryBackend; ids: Id[] }> {
  await backend.remove('key', repo.keyId!, false)
  const ids: Id[] = []
  for (const k of keys) {
    const bytes = enc(k)
    const id = hashId(bytes)
    await backend.writeBytes('key', id, false, bytes)
    ids.push(id)
  }
  return { backend, ids }
}

/** The key file of `backend`'s repository for `pw`, as rustic writes it: no `created`, no user or host, its own field order. */
async function rusticStyleKey(master: Repository, pw: string): Promise<string> {
  const { keyFile } = await createKeyFile(master.key, pw, { kdf: fastKdf })
  return JSON.stringify({ kdf: 'scrypt', N: keyFile.N, r: keyFile.r, p: keyFile.p, data: keyFile.data, salt: keyFile.salt })
}

async function masterOf(): Promise<{ backend: MemoryBackend; repo: Repository }> {
  const backend = new MemoryBackend()
  return { backend, repo: await Repository.init({}, { repository: backend }, { password }, { kdf: fastKdf }) }
}

describe('findKey', () => {
  it("derives each key file's user key with the repository options' keyDeriver, which gets the key file's salt and parameters", async () => {
    const { backend } = await masterOf()
    const calls: Array<{ password: string | Uint8Array; salt: Uint8Array; N: number }> = []
    const keyDeriver = (pw: string | Uint8Array, salt: Uint8Array, params: { N: number; r: number; p: number }) => {
      calls.push({ password: pw, salt, N: params.N })
      return deriveKey(pw, salt, params)
    }
    const opened = await Repository.open({ keyDeriver }, { repository: backend }, { password })
    const keyFile = parseKeyFile(await backend.readFull('key', opened.keyId!), 'key')
    expect(calls.map((c) => ({ ...c, salt: Buffer.from(c.salt).toString('base64') }))).toEqual([{ password, salt: keyFile.salt, N: fastKdf.N }])
    // a deriver giving another key: the password does not open the key file
    const wrong = await Repository.open({ keyDeriver: (pw, salt, params) => deriveKey(`${String(pw)}x`, salt, params) }, { repository: backend }, { password }).catch(
      (e: unknown) => e,
    )
    expect(isRusticError(wrong, 'IncorrectPassword')).toBe(true)
  })

  it('opens a key file without created, username and hostname (as rustic writes them)', async () => {
    const { backend, repo } = await masterOf()
    const text = await rusticStyleKey(repo, 'rustic-pw')
    const bytes = enc(text)
    await backend.writeBytes('key', hashId(bytes), false, bytes)
    const opened = await Repository.open({}, { repository: backend }, { password: 'rustic-pw' })
    expect(opened.keyId).toBe(hashId(bytes))
    const k = parseKeyFile(bytes, 'key')
    expect(k.created).toBeUndefined()
    expect(k.username).toBe('')
    // written back without a created member (and in restic's order)
    expect(new TextDecoder().decode(serializeKeyFile(k))).not.toContain('created')
    expect((await opened.listKeys()).map((i) => i.keyFile.created).filter((c) => c === undefined)).toHaveLength(1)
  })

  it.each([
    ['bad base64', (k: string) => k.replace(/"salt":"[^"]*"/, '"salt":"not base64!"'), /salt: expected base64/],
    ['bad JSON', (k: string) => k.slice(0, -3), /invalid JSON/],
    ['a short salt', (k: string) => k.replace(/"salt":"[^"]*"/, '"salt":"AAAA"'), /salt: expected 64 bytes of salt/],
  ])('an undecodable key file (%s) is its own error naming it, not "incorrect password"', async (_name, spoil, detail) => {
    const m = await masterOf()
    const { backend, ids } = await replaceKeys(m.backend, m.repo, spoil(await rusticStyleKey(m.repo, password)))
    const warnings: string[] = []
    const err = await Repository.open({ onWarning: (m) => warnings.push(m) }, { repository: backend }, { password }).catch((e: unknown) => e)
    expect(isRusticError(err, 'IncorrectPassword')).toBe(false)
    expect(isRusticError(err, 'DecodeError')).toBe(true)
    expect((err as Error).message).toContain(`key ${ids[0]}`)
    expect((err as Error).message).toMatch(detail)
    expect((err as Error).message).not.toContain(password)
    expect(warnings.join('\n')).toContain(`key ${ids[0]}`)
  })

  it('is "incorrect password" only when a key was tried: an undecodable key beside a good one', async () => {
    const m = await masterOf()
    const good = await rusticStyleKey(m.repo, password)
    const { backend, ids } = await replaceKeys(m.backend, m.repo, '{"kdf":"scrypt"', good)
    const warnings: string[] = []
    const opened = await Repository.open({ onWarning: (m) => warnings.push(m) }, { repository: backend }, { password })
    expect(opened.keyId).toBe(ids[1])
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain(`key ${ids[0]}`)
    const wrong = await Repository.open({}, { repository: backend }, { password: 'wrong' }).catch((e: unknown) => e)
    expect(isRusticError(wrong, 'IncorrectPassword')).toBe(true)
    expect((wrong as Error).message).toMatch(/none of its 1 readable key file\(s\) opens with it \(1 more could not be decoded\)/)
  })
})
