import { mkdir, readFile, rm, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Repository } from '@rustic-ts/core'
import { CHEAP_KDF } from '../helpers/cheapKey.js'
import { rustic, tempDir, type Env, type RunResult } from '../helpers/restic.js'

/**
 * The built CLI starts the key derivation of a local repository before its program loads (dist/cli.js,
 * `startEarlyKeyDerivation`) and opening the repository takes that result. Each run here records every scrypt
 * call of the process (test/fixtures/traceScrypt.cjs, preloaded): made by the early derivation or by core's
 * `deriveKey`. Needs `npm run build`.
 */
const TRACER = fileURLToPath(new URL('../fixtures/traceScrypt.cjs', import.meta.url))

interface ScryptCall {
  early: boolean
  core: boolean
}

let tmp: Awaited<ReturnType<typeof tempDir>>
let repo: string
/** The passwords of the repository's two keys, in the order findKey tries them (the local listing). */
let passwords: [string, string]
let runs = 0

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-earlykdf-')
  repo = join(tmp.path, 'repo')
  const backend = new LocalBackend(repo)
  const r = await Repository.init({ noCache: true }, { repository: backend }, { password: 'pw-one' }, { kdf: CHEAP_KDF })
  const two = await r.addKey('pw-two', { kdf: CHEAP_KDF })
  await r.close()
  passwords = (await backend.list('key'))[1] === two ? ['pw-one', 'pw-two'] : ['pw-two', 'pw-one']
  await mkdir(join(tmp.path, 'config'))
}, 60_000)
afterAll(async () => tmp?.remove())

/** Runs the CLI (no profile unless the test writes one, no password but `env`'s) and returns its result and its scrypt calls. */
async function traced(args: string[], env: Env): Promise<RunResult & { scrypt: ScryptCall[] }> {
  const trace = join(tmp.path, `trace-${++runs}`)
  const r = await rustic(args, {
    RUSTIC_PASSWORD: undefined,
    RESTIC_PASSWORD: undefined,
    RUSTIC_REPOSITORY: undefined,
    RESTIC_REPOSITORY: undefined,
    XDG_CONFIG_HOME: join(tmp.path, 'config'),
    NODE_OPTIONS: `--require ${TRACER}`,
    RUSTIC_TEST_SCRYPT_TRACE: trace,
    ...env,
  })
  const lines = (await readFile(trace, 'utf8').catch(() => '')).split('\n').filter((l) => l !== '')
  return { ...r, scrypt: lines.map((l) => JSON.parse(l) as ScryptCall) }
}

const EARLY = { early: true, core: false }
const CORE = { early: false, core: true }

describe('the key derivation started before the program loads', () => {
  it('is the only derivation of a run whose password opens the first key file (-r and RUSTIC_PASSWORD)', async () => {
    const r = await traced(['-r', repo, '--no-cache', 'cat', 'config'], { RUSTIC_PASSWORD: passwords[0] })
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.toString())).toMatchObject({ version: 2 })
    expect(r.scrypt).toMatchObject([EARLY])
  })

  it('is used with --password-file and RESTIC_REPOSITORY', async () => {
    const file = join(tmp.path, 'password')
    await writeFile(file, `${passwords[0]}\n`)
    const r = await traced(['--no-cache', 'snapshots', '--json', '-p', file], { RESTIC_REPOSITORY: repo })
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout.toString())).toEqual([])
    expect(r.scrypt).toMatchObject([EARLY])
  })

  it("with the second key file's password: the first is derived early, the second when tried, and the repository opens", async () => {
    const r = await traced(['-r', repo, '--no-cache', 'cat', 'config'], { RESTIC_PASSWORD: passwords[1] })
    expect(r.code, r.stderr).toBe(0)
    expect(r.scrypt).toMatchObject([EARLY, CORE])
  })

  it('with a wrong password: the same error and exit code as without it, and no key derived twice', async () => {
    const early = await traced(['-r', repo, '--no-cache', 'snapshots'], { RUSTIC_PASSWORD: 'wrong' })
    // a password command is never run early: this run derives both keys in core
    const late = await traced(['-r', repo, '--no-cache', 'snapshots', '--password-command', 'echo wrong'], {})
    expect(late.scrypt).toMatchObject([CORE, CORE])
    expect(early.scrypt).toMatchObject([EARLY, CORE])
    expect([early.code, early.stderr]).toEqual([late.code, late.stderr])
    expect(early.code).toBe(1)
    expect(early.stderr).toMatch(/^rustic-ts: error: incorrect password for local:.*: none of its 2 readable key file\(s\) opens with it\n$/)
    expect(early.stderr).not.toContain('wrong')
  })

  it('is not started when a profile gives the password (it wins over RESTIC_PASSWORD); the profile is honoured as before', async () => {
    await mkdir(join(tmp.path, 'config', 'rustic-ts'), { recursive: true })
    await writeFile(join(tmp.path, 'config', 'rustic-ts', 'rustic.toml'), `[repository]\npassword = "${passwords[0]}"\nno-cache = true\n`)
    try {
      const r = await traced(['-r', repo, 'cat', 'config'], { RESTIC_PASSWORD: 'wrong' })
      expect(r.code, r.stderr).toBe(0)
      expect(r.scrypt).toMatchObject([CORE])
    } finally {
      await rm(join(tmp.path, 'config', 'rustic-ts'), { recursive: true })
    }
  })
})
