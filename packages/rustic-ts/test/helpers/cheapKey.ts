import { cp, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { LocalBackend } from '@rustic-ts/backend-local'
import { Repository } from '@rustic-ts/core'
import { parseConfig, randomId, serializeConfig } from '@rustic-ts/core/internal'
import { PASSWORD, restic, rusticOk } from './restic.js'

/** Key derivation parameters that take about a millisecond (restic calibrates its own to half a second). */
export const CHEAP_KDF = { N: 1024, r: 8, p: 1 } as const

/**
 * Replaces the key files of a repository (made by `restic init`, whose key restic calibrates to take
 * about half a second to open) by one key for the same password with cheap scrypt parameters
 * (N = 1024), so that each later restic and rustic-ts run opens it fast.
 */
export async function cheapKey(dir: string, password = PASSWORD): Promise<void> {
  const backend = new LocalBackend(dir)
  const repo = await Repository.open({ noCache: true }, { repository: backend }, { password })
  const old = await backend.list('key')
  await repo.addKey(password, { kdf: CHEAP_KDF })
  for (const id of old) await backend.remove('key', id, false)
  await repo.close()
}

/** Templates made in this test file, by the command line that made them. */
const templates = new Map<string, Promise<string>>()
let templateRoot: string | undefined

/** A directory for this file's templates, removed when the test process exits. */
async function root(): Promise<string> {
  if (templateRoot === undefined) {
    templateRoot = await mkdtemp(join(tmpdir(), 'rustic-ts-templates-'))
    const dir = templateRoot
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  }
  return templateRoot
}

/** The template made once per test file by `make(dir)` and {@link cheapKey}. */
function template(name: string, make: (dir: string) => Promise<unknown>): Promise<string> {
  let t = templates.get(name)
  if (t === undefined) {
    t = (async () => {
      const dir = join(await root(), `t${templates.size}`)
      await make(dir)
      await cheapKey(dir)
      return dir
    })()
    templates.set(name, t)
  }
  return t
}

/**
 * Copies a template repository to `dir` (which may exist, empty) and gives the copy a new repository id
 * (config rewritten with the same master key and chunker polynomial), so two copies never share a cache.
 */
async function copyTemplate(from: string, dir: string): Promise<void> {
  await cp(from, dir, { recursive: true })
  const repo = await Repository.open({ noCache: true, lock: false }, { repository: new LocalBackend(dir) }, { password: PASSWORD })
  try {
    const file = join(dir, 'config')
    const config = parseConfig(repo.key.decrypt(await readFile(file), 'config'))
    await rm(file, { force: true })
    await writeFile(file, repo.key.encrypt(serializeConfig({ ...config, id: randomId() })), { mode: 0o400 })
  } finally {
    await repo.close()
  }
}

/**
 * A new repository at `dir` as `restic init ARGS` makes it, but with a cheap key (see {@link cheapKey}):
 * restic runs `init` once per test file and set of arguments; each call copies that repository and
 * gives it its own id. For tests whose subject is not restic's key or init.
 */
export async function resticInit(dir: string, args: string[] = []): Promise<void> {
  await copyTemplate(await template(`restic ${args.join(' ')}`, (t) => restic(t, ['init', ...args])), dir)
}

/** Like {@link resticInit}, for a repository as `rustic-ts init ARGS` makes it (the built command line). */
export async function rusticInit(dir: string, args: string[] = []): Promise<void> {
  await copyTemplate(await template(`rustic-ts ${args.join(' ')}`, (t) => rusticOk(['-r', t, 'init', ...args])), dir)
}
