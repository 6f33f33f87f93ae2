import { createHash } from 'node:crypto'
import { lstat, readdir, readFile, readlink } from 'node:fs/promises'
import { join } from 'node:path'

/** What the tree walker records of one entry. */
export interface EntryFacts {
  type: 'file' | 'dir' | 'symlink' | 'other'
  mode: number
  mtimeNs?: bigint
  size?: number
  sha256?: string
  target?: string
}

/**
 * Every entry below `root` (relative path -> facts), for comparing a restore with its source.
 * Directory mtimes are left out when `dirMtimes` is false (restoring into a dir changes it).
 */
export async function treeFacts(root: string, options: { dirMtimes?: boolean } = {}): Promise<Map<string, EntryFacts>> {
  const out = new Map<string, EntryFacts>()
  const walk = async (dir: string, rel: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const p = join(dir, name)
      const r = rel ? `${rel}/${name}` : name
      const st = await lstat(p, { bigint: true })
      const mode = Number(st.mode & 0o7777n)
      if (st.isSymbolicLink()) out.set(r, { type: 'symlink', mode: 0, target: await readlink(p) })
      else if (st.isDirectory()) {
        out.set(r, { type: 'dir', mode, mtimeNs: options.dirMtimes === false ? undefined : st.mtimeNs })
        await walk(p, r)
      } else if (st.isFile()) {
        const sha256 = createHash('sha256').update(await readFile(p)).digest('hex')
        out.set(r, { type: 'file', mode, mtimeNs: st.mtimeNs, size: Number(st.size), sha256 })
      } else out.set(r, { type: 'other', mode, mtimeNs: st.mtimeNs })
    }
  }
  await walk(root, '')
  return out
}

/**
 * {@link treeFacts} as a restore reproduces them: no directory mtimes, file mtimes in µs (Node sets
 * file times through a double, so restores keep µs, not ns).
 */
export async function restoredTreeFacts(root: string): Promise<Map<string, EntryFacts>> {
  const m = await treeFacts(root, { dirMtimes: false })
  for (const f of m.values()) if (f.mtimeNs !== undefined) f.mtimeNs /= 1000n
  return m
}
