import { randomBytes } from 'node:crypto'
import { readFile, rename, unlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'

/** The name of the cache directory tag file (https://bford.info/cachedir/). */
export const CACHEDIR_TAG_NAME = 'CACHEDIR.TAG'

/** The contents of a `CACHEDIR.TAG` file: the standard signature line and a comment. */
export const CACHEDIR_TAG_CONTENT =
  'Signature: 8a477f597d28d172789f06886806bc55\n' +
  '# This file is a cache directory tag created by rustic-ts.\n' +
  '# For information about cache directory tags, see https://bford.info/cachedir/\n'

/**
 * Writes `CACHEDIR.TAG` into `dir` unless a valid one is there already (backup tools then skip the
 * directory). Atomic (temp file + rename), mode 0600.
 */
export async function ensureCacheDirTag(dir: string): Promise<void> {
  const path = join(dir, CACHEDIR_TAG_NAME)
  try {
    const existing = await readFile(path, 'latin1')
    if (existing.startsWith('Signature: 8a477f597d28d172789f06886806bc55')) return
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const tmp = `${path}.tmp-${randomBytes(6).toString('hex')}`
  try {
    await writeFile(tmp, CACHEDIR_TAG_CONTENT, { mode: 0o600, flag: 'wx' })
    await rename(tmp, path)
  } catch (err) {
    await unlink(tmp).catch(() => {})
    throw err
  }
}
