import { execFile, spawnSync } from 'node:child_process'
import { link, mkdir, mkdtemp, readdir, readFile, rename, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import {
  createKeyFile,
  hashId,
  openKeyFile,
  parseKeyFile,
  serializeNode,
  type ReadSource,
  type ReadSourceEntry,
  type SourceEntriesOptions,
} from '@rustic-ts/core/internal'

const run = promisify(execFile)

/** A restic repository (made by the real `restic`) with a cheap extra key, so that each command is quick. */
export interface ResticRepo {
  dir: string
  /** Runs restic on the repository (optionally in `cwd`); returns stdout. */
  restic(args: string[], options?: { cwd?: string; input?: string }): Promise<string>
  /** Backs up (`restic backup --json ARGS`) and returns the snapshot id. */
  backup(args: string[], options?: { cwd?: string; input?: string }): Promise<string>
  /** `restic ls --json`: the nodes of a snapshot in tree order (restic's short form: no owner names, inode, links, ...). */
  ls(snapshotId: string): Promise<Array<Record<string, unknown> & { path: string }>>
  /** The nodes of a snapshot in tree order, each with its path (as `restic ls` prints it) and its JSON object. */
  nodes(snapshotId: string): Promise<Array<{ path: string; node: Record<string, unknown> }>>
  cleanup(): Promise<void>
}

/** Makes a temp dir. */
export function tempDir(prefix: string): Promise<string> {
  return mkdtemp(join(tmpdir(), `rustic-ts-${prefix}-`))
}

/**
 * Makes under `base` a directory whose path is just short enough to list, holding `longName` (a name that
 * makes a path over PATH_MAX, so lstat fails with ENAMETOOLONG) and `other` (a file of one byte). `undo`
 * moves it back up so that `base` can be removed.
 */
export async function dirWithUnstatableName(base: string, other: string): Promise<{ dir: string; longName: string; undo: () => Promise<void> }> {
  const deep = join(base, 'deep', ...Array.from({ length: 16 }, () => 'd'.repeat(240)))
  await mkdir(deep, { recursive: true })
  const staging = join(base, 'staging')
  const longName = 'n'.repeat(250)
  await mkdir(staging)
  await writeFile(join(staging, longName), 'x')
  await writeFile(join(staging, other), 'x')
  const dir = join(deep, 's')
  await rename(staging, dir)
  return { dir, longName, undo: () => rename(dir, join(base, 'staging-back')) }
}

export async function makeResticRepo(): Promise<ResticRepo> {
  const dir = await tempDir('srcrepo')
  const repo = join(dir, 'repo')
  const password = 'pw'
  const env = { ...process.env, RESTIC_PASSWORD: password }
  await run('restic', ['-r', repo, '--no-cache', 'init', '-q'], { env })
  const [keyId] = await readdir(join(repo, 'keys'))
  const master = await openKeyFile(parseKeyFile(new Uint8Array(await readFile(join(repo, 'keys', keyId!))), 'key'), password)
  const fast = await createKeyFile(master, 'fast', { kdf: { N: 1024, r: 8, p: 1 } })
  const fastId = hashId(fast.bytes)
  await writeFile(join(repo, 'keys', fastId), fast.bytes)
  const fastEnv = { ...process.env, RESTIC_PASSWORD: 'fast' }
  const restic = async (args: string[], options: { cwd?: string; input?: string } = {}): Promise<string> => {
    const argv = ['-r', repo, '--no-cache', '--key-hint', fastId, ...args]
    if (options.input !== undefined) {
      const r = spawnSync('restic', argv, { env: fastEnv, cwd: options.cwd, input: options.input, encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`restic ${args.join(' ')} failed: ${r.stderr}`)
      return r.stdout
    }
    return (await run('restic', argv, { env: fastEnv, cwd: options.cwd, maxBuffer: 64 << 20 })).stdout
  }
  const catJson = async (...args: string[]): Promise<Record<string, unknown>> => JSON.parse(await restic(['cat', ...args])) as Record<string, unknown>
  const ls = async (snapshotId: string): Promise<Array<Record<string, unknown> & { path: string }>> =>
    (await restic(['ls', '--json', snapshotId]))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown> & { struct_type: string; path: string })
      .filter((o) => o.struct_type === 'node')
  return {
    dir,
    restic,
    async backup(args, options) {
      const out = await restic(['backup', '--json', ...args], options)
      const summary = out
        .trim()
        .split('\n')
        .map((l) => JSON.parse(l) as { message_type: string; snapshot_id?: string })
        .find((m) => m.message_type === 'summary')
      return summary!.snapshot_id!
    },
    ls,
    async nodes(snapshotId) {
      const snap = await catJson('snapshot', snapshotId)
      // tree blobs, fetched level by level (in parallel), then walked depth-first
      const trees = new Map<string, Array<Record<string, unknown>>>()
      let level = [snap['tree'] as string]
      while (level.length > 0) {
        const fetched = await Promise.all(level.map(async (id) => [id, ((await catJson('blob', id)) as { nodes: Array<Record<string, unknown>> }).nodes] as const))
        const next = new Set<string>()
        for (const [id, nodes] of fetched) {
          trees.set(id, nodes)
          for (const n of nodes) if (n['type'] === 'dir' && !trees.has(n['subtree'] as string)) next.add(n['subtree'] as string)
        }
        level = [...next]
      }
      const nodes: Array<Record<string, unknown>> = []
      const walk = (id: string): void => {
        for (const node of trees.get(id)!) {
          nodes.push(node)
          if (node['type'] === 'dir') walk(node['subtree'] as string)
        }
      }
      walk(snap['tree'] as string)
      // paths as `restic ls` prints them (names decoded, invalid UTF-8 as U+FFFD)
      const paths = (await ls(snapshotId)).map((o) => o.path)
      if (paths.length !== nodes.length) throw new Error(`restic ls shows ${paths.length} nodes, the trees hold ${nodes.length}`)
      return nodes.map((node, i) => ({ path: paths[i]!, node }))
    },
    cleanup: () => rm(dir, { recursive: true, force: true }),
  }
}

/** All entries of a source, and the errors it reported. */
export async function collect(
  source: ReadSource,
  options: SourceEntriesOptions = {},
): Promise<{ entries: ReadSourceEntry[]; errors: Array<{ path: string; error: unknown }> }> {
  const entries: ReadSourceEntry[] = []
  const errors: Array<{ path: string; error: unknown }> = []
  for await (const e of source.entries({ onError: (path, error) => errors.push({ path, error }), ...options })) entries.push(e)
  return { entries, errors }
}

/** Entry paths as `restic ls` prints them (always with a leading `/`). */
export function lsPaths(entries: readonly ReadSourceEntry[]): string[] {
  return entries.map((e) => (e.path.startsWith('/') ? e.path : `/${e.path}`))
}

/** The JSON object of a node from restic, without `content` and `subtree`. */
export function resticNodeObject(node: Record<string, unknown>): Record<string, unknown> {
  const { content: _c, subtree: _s, ...rest } = node
  return rest
}

/** The JSON object of one of our nodes as restic would store it, without `content` and `subtree`. */
export function ourNodeObject(node: ReadSourceEntry['node']): Record<string, unknown> {
  return resticNodeObject(JSON.parse(serializeNode(node)) as Record<string, unknown>)
}

/** A name that is not valid UTF-8 (`caf\xe9`), as bytes. */
export const LATIN1_NAME = Buffer.from([0x63, 0x61, 0x66, 0xe9])

/** Makes a unix socket file at `path` (with python, as Node removes its sockets on close). */
export function makeSocket(path: string): void {
  const r = spawnSync('python3', ['-c', 'import socket,sys;s=socket.socket(socket.AF_UNIX);s.bind(sys.argv[1])', path])
  if (r.status !== 0) throw new Error(`cannot make socket ${path}: ${r.stderr}`)
}

/**
 * The standard test tree under `dir`: nested dirs, files (one 300 kB), an empty dir, symlinks (one
 * dangling), a hard link, a fifo, a socket, a name that is not UTF-8, and names whose UTF-8 byte order
 * differs from JS string order (U+FF21 sorts before U+1F600 by bytes, after it by UTF-16 units).
 */
export async function makeTree(dir: string): Promise<void> {
  await mkdir(join(dir, 'sub', 'deep'), { recursive: true })
  await mkdir(join(dir, 'empty'))
  await writeFile(join(dir, 'a.txt'), 'hello\n')
  await writeFile(join(dir, 'B.txt'), 'upper\n')
  const big = Buffer.alloc(300_000)
  for (let i = 0; i < big.length; i++) big[i] = (i * 7 + (i >> 9)) & 0xff
  await writeFile(join(dir, 'big.bin'), big)
  await writeFile(join(dir, 'sub', 'deep', 'f.txt'), 'deep\n')
  await symlink('../a.txt', join(dir, 'sub', 'link'))
  await symlink('nowhere', join(dir, 'dangling'))
  await link(join(dir, 'a.txt'), join(dir, 'hardlink'))
  await writeFile(join(dir, '\u{1F600}'), 'emoji')
  await writeFile(join(dir, '\uFF21'), 'fullwidth A')
  await writeFile(Buffer.concat([Buffer.from(dir + '/'), LATIN1_NAME]), 'latin1 name')
  const r = spawnSync('mkfifo', [join(dir, 'fifo')])
  if (r.status !== 0) throw new Error('mkfifo failed')
  makeSocket(join(dir, 'sock'))
}
