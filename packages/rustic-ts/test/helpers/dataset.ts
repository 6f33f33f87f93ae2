import { createHash, randomBytes } from 'node:crypto'
import { mkdir, readdir, lstat, readFile, readlink, symlink, writeFile } from 'node:fs/promises'
import { join, relative } from 'node:path'

/**
 * Builds a small data set covering the format's corners: nested dirs, empty files and dirs,
 * a file over 10 MiB (several chunks), a compressible file, a symlink and non-ASCII names.
 */
export async function makeDataset(root: string, options: { bigFileMiB?: number } = {}): Promise<void> {
  const big = options.bigFileMiB ?? 12
  await mkdir(join(root, 'a', 'b', 'c'), { recursive: true })
  await mkdir(join(root, 'empty-dir'), { recursive: true })
  await mkdir(join(root, 'ünïcødé 日本'), { recursive: true })
  await writeFile(join(root, 'a', 'hello.txt'), 'hello world\n')
  await writeFile(join(root, 'a', 'b', 'empty'), '')
  await writeFile(join(root, 'a', 'b', 'c', 'deep.txt'), 'deep '.repeat(1000))
  await writeFile(join(root, 'ünïcødé 日本', 'файл €.txt'), 'non-ascii name\n')
  await writeFile(join(root, 'ünïcødé 日本', '😀 emoji'), randomBytes(1000))
  await writeFile(join(root, 'big.bin'), randomBytes(big * 1024 * 1024))
  await writeFile(join(root, 'log.txt'), Array.from({ length: 50_000 }, (_, i) => `line ${i} of a compressible log\n`).join(''))
  await symlink('a/hello.txt', join(root, 'link-to-hello'))
  await symlink('does/not/exist', join(root, 'dangling'))
}

/** Every regular file below `root` (relative path -> sha256 hex). */
export async function fileHashes(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      if (e.isDirectory()) await walk(p)
      else if (e.isFile()) out.set(relative(root, p), createHash('sha256').update(await readFile(p)).digest('hex'))
    }
  }
  await walk(root)
  return out
}

/** Symlinks below `root` (relative path -> target). */
export async function symlinks(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>()
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = join(dir, e.name)
      const st = await lstat(p)
      if (st.isSymbolicLink()) out.set(relative(root, p), await readlink(p))
      else if (st.isDirectory()) await walk(p)
    }
  }
  await walk(root)
  return out
}
