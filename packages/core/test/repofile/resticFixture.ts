import { execFile } from 'node:child_process'
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { createKeyFile, hashId, openKeyFile, parseKeyFile, type Key } from '@rustic-ts/core/internal'

const run = promisify(execFile)

/** A restic repository made by the real `restic` binary in a temp dir. */
export interface ResticFixture {
  /** Temp dir holding `repo/` and `src/`. */
  dir: string
  /** The repository path. */
  repo: string
  /** The backed-up directory. */
  src: string
  /** The password of the key restic made at `init`. */
  password: string
  /** The id of the key restic made at `init`. */
  resticKeyId: string
  /** The master key (opened from restic's key file by rustic-ts). */
  master: Key
  /** The id of a cheap key (scrypt N=1024) added by rustic-ts, which `restic()` uses to save time. */
  fastKeyId: string
  /** Runs restic on the repository with the cheap key; returns stdout. */
  restic(...args: string[]): Promise<string>
  /** Reads a repository file (`config`, `keys/<id>`, `snapshots/<id>`, `index/<id>`, `data/xx/<id>`). */
  read(path: string): Promise<Uint8Array>
  /** Lists the file names of a repository dir (`keys`, `snapshots`, `index`; `data` lists all packs as `xx/<id>`). */
  list(dir: string): Promise<string[]>
  /** Removes the temp dir. */
  cleanup(): Promise<void>
}

/** Password of the cheap key the fixture adds. */
export const FAST_PASSWORD = 'fast'

/**
 * Makes a repository with `restic init --repository-version <version>` and two backups of a small
 * tree (text, pseudo-random 3 MB file, symlink, odd names), the second with tags, host and exclude.
 * restic calibrates its scrypt to ~0.5 s, paid by every restic command; so after `init` the fixture
 * opens restic's key (with rustic-ts) and adds a cheap key that later restic commands use.
 */
export async function makeResticFixture(version: 1 | 2, password = 'test password ü'): Promise<ResticFixture> {
  const dir = await mkdtemp(join(tmpdir(), `rustic-ts-fixture-v${version}-`))
  const repo = join(dir, 'repo')
  const src = join(dir, 'src')
  await mkdir(join(src, 'sub'), { recursive: true })
  await writeFile(join(src, 'a.txt'), 'hello restic\n')
  await writeFile(join(src, 'we"ird<&>.txt'), 'x'.repeat(10000))
  const big = Buffer.alloc(3_000_000)
  for (let i = 0; i < big.length; i += 4) big.writeUInt32LE((Math.imul(i, 2654435761) ^ (i >>> 7)) >>> 0, i)
  await writeFile(join(src, 'sub', 'big.bin'), big)
  await writeFile(join(src, 'skip.tmp'), 'excluded')
  await symlink('a.txt', join(src, 'link'))
  const env = { ...process.env, RESTIC_PASSWORD: password, RESTIC_CACHE_DIR: join(dir, 'cache') }
  await run('restic', ['-r', repo, '--no-cache', 'init', '--repository-version', String(version)], { env })
  const [resticKeyId] = await readdir(join(repo, 'keys'))
  const keyFile = parseKeyFile(new Uint8Array(await readFile(join(repo, 'keys', resticKeyId!))), 'key')
  const master = await openKeyFile(keyFile, password)
  const fast = await createKeyFile(master, FAST_PASSWORD, { kdf: { N: 1024, r: 8, p: 1 } })
  const fastKeyId = hashId(fast.bytes)
  await writeFile(join(repo, 'keys', fastKeyId), fast.bytes)
  const fastEnv = { ...env, RESTIC_PASSWORD: FAST_PASSWORD }
  const restic = async (...args: string[]): Promise<string> =>
    (await run('restic', ['-r', repo, '--no-cache', '--key-hint', fastKeyId, ...args], { env: fastEnv, maxBuffer: 64 << 20 }))
      .stdout
  await restic('backup', src, '-q')
  await restic('backup', src, '-q', '--tag', 't1', '--tag', 'x<y>&z', '--host', 'h&st', '--exclude', '*.tmp')
  return {
    dir,
    repo,
    src,
    password,
    resticKeyId: resticKeyId!,
    master,
    fastKeyId,
    restic,
    read: async (path) => new Uint8Array(await readFile(join(repo, path))),
    async list(sub) {
      if (sub !== 'data') return (await readdir(join(repo, sub))).sort()
      const out: string[] = []
      for (const xx of (await readdir(join(repo, 'data'))).sort()) {
        for (const f of (await readdir(join(repo, 'data', xx))).sort()) out.push(`${xx}/${f}`)
      }
      return out
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}
