import { scryptSync } from 'node:crypto'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Repository } from '@rustic-ts/core'
import { parseKeyFile } from '@rustic-ts/core/internal'
import { startEarlyKeyDerivation, takeEarlyKey, takeEarlyThread } from '../../../src/cli/earlyKey/earlyKeyDerivation.js'
import { CHEAP_KDF } from '../../helpers/cheapKey.js'

let dir: string
let repo: string
/** The key files in `findKey`'s order (the local listing), with their passwords, salts and parameters. */
let keys: Array<{ password: string; salt: Buffer; params: { N: number; r: number; p: number } }>

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rustic-ts-earlykey-'))
  repo = join(dir, 'repo')
  const backend = new LocalBackend(repo)
  const r = await Repository.init({ noCache: true }, { repository: backend }, { password: 'first' }, { kdf: CHEAP_KDF })
  const second = await r.addKey('second', { kdf: { ...CHEAP_KDF, p: 2 } })
  await r.close()
  keys = []
  for (const id of await backend.list('key')) {
    const k = parseKeyFile(await readFile(join(repo, 'keys', id)), id)
    keys.push({ password: id === second ? 'second' : 'first', salt: Buffer.from(k.salt, 'base64'), params: { N: k.N, r: k.r, p: k.p } })
  }
}, 30_000)
afterAll(async () => rm(dir, { recursive: true, force: true }))

const start = (password: string, args = ['-r', repo, 'snapshots']): void =>
  startEarlyKeyDerivation(['node', 'cli.js', ...args], { XDG_CONFIG_HOME: join(dir, 'no-config'), RUSTIC_PASSWORD: password })

describe('the early key derivation and its hand-off', () => {
  it("derives the first key file findKey tries, with the command line's password; the result is taken once, for exactly that derivation", async () => {
    const [first, next] = [keys[0]!, keys[1]!]
    start(first.password)
    // another password, salt or parameters: nothing, at once (the caller derives itself)
    expect(takeEarlyKey('other', first.salt, first.params)).toBeUndefined()
    expect(takeEarlyKey(first.password, next.salt, next.params)).toBeUndefined()
    expect(takeEarlyKey(first.password, first.salt, { ...first.params, p: first.params.p + 1 })).toBeUndefined()
    const taken = takeEarlyKey(new TextEncoder().encode(first.password), first.salt, first.params)
    expect(taken).toBeDefined()
    const expected = scryptSync(first.password, first.salt, 64, { ...first.params, maxmem: 64 << 20 })
    expect(Buffer.from((await taken)!)).toEqual(expected)
    expect(takeEarlyKey(first.password, first.salt, first.params)).toBeUndefined()
  })

  it("derives only the first key file even when the password is another key's (that one is derived when findKey tries it)", () => {
    const [first, next] = [keys[0]!, keys[1]!]
    start(next.password)
    expect(takeEarlyKey(next.password, next.salt, next.params)).toBeUndefined()
    // what was started: the first key file with this password (which does not open it)
    expect(takeEarlyKey(next.password, first.salt, first.params)).toBeDefined()
  })

  it("keeps the thread that mixed the lanes for check (taken once), not for other commands, nor where OpenSSL derives the key", async () => {
    // one lane of 16 MiB: the early derivation mixes it on a worker thread (lessMemory)
    const big = await mkdtemp(join(dir, 'big-'))
    const r = await Repository.init({ noCache: true }, { repository: new LocalBackend(big) }, { password: 'big' }, { kdf: { N: 2 ** 14, r: 8, p: 1 } })
    await r.close()
    const keyFile = parseKeyFile(await readFile(join(big, 'keys', (await new LocalBackend(big).list('key'))[0]!)), 'key')
    const salt = Buffer.from(keyFile.salt, 'base64')
    const params = { N: keyFile.N, r: keyFile.r, p: keyFile.p }
    for (const command of ['check', 'snapshots']) {
      start('big', ['-r', big, command])
      expect(takeEarlyThread()).toBeUndefined()
      expect(await takeEarlyKey('big', salt, params)).toBeDefined()
      const thread = takeEarlyThread()
      expect(thread !== undefined, command).toBe(command === 'check')
      expect(takeEarlyThread()).toBeUndefined()
      if (thread) {
        expect(thread.threadId).toBeGreaterThan(0)
        await thread.terminate()
      }
    }
    // the cheap keys of the other repository are derived by OpenSSL: no thread
    start(keys[0]!.password, ['-r', repo, 'check'])
    expect(await takeEarlyKey(keys[0]!.password, keys[0]!.salt, keys[0]!.params)).toBeDefined()
    expect(takeEarlyThread()).toBeUndefined()
  })

  it('starts nothing for a command line it cannot be sure of, a missing repository, or a repository without key files', () => {
    const first = keys[0]!
    start(first.password, ['-r', repo, 'init'])
    expect(takeEarlyKey(first.password, first.salt, first.params)).toBeUndefined()
    start(first.password, ['-r', join(dir, 'missing'), 'snapshots'])
    expect(takeEarlyKey(first.password, first.salt, first.params)).toBeUndefined()
    start(first.password, ['-r', dir, 'snapshots'])
    expect(takeEarlyKey(first.password, first.salt, first.params)).toBeUndefined()
  })
})
