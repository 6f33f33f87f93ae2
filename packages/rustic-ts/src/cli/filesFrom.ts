import { readFile } from 'node:fs/promises'
import { RusticError } from '@rustic-ts/core'

/** How a `--files-from*` file lists paths (restic's three flags). */
export type FilesFromKind = 'glob' | 'verbatim' | 'raw'

/** The text of a list file, `-` being standard input. */
async function readList(file: string, flag: string): Promise<string> {
  try {
    if (file !== '-') return await readFile(file, 'utf8')
    const chunks: Buffer[] = []
    for await (const chunk of process.stdin) chunks.push(chunk as Buffer)
    return Buffer.concat(chunks).toString('utf8')
  } catch (e) {
    throw new RusticError('InvalidInput', `cannot read ${flag} file ${file}: ${(e as Error).message}`, { code: 'InvalidOptions', cause: e })
  }
}

/** True if a line holds a glob metacharacter (`*`, `?`, `[`), as Go's `filepath.Glob` reads them. */
const hasMeta = (s: string): boolean => /[*?[]/.test(s)

/**
 * The paths named by restic's `--files-from` (one per line, `#` comments and empty lines skipped, each line
 * a glob pattern expanded as `filepath.Glob` does: `*` also matches names starting with a dot),
 * `--files-from-verbatim` (one path per line, taken as written) or `--files-from-raw` (NUL-separated).
 * A pattern that matches nothing is reported to `warn` and skipped, as restic does.
 */
export async function pathsFromFile(file: string, kind: FilesFromKind, warn: (message: string) => void): Promise<string[]> {
  const flag = kind === 'glob' ? '--files-from' : `--files-from-${kind}`
  const text = await readList(file, flag)
  if (kind === 'raw') return text.split('\0').filter((p) => p !== '')
  const lines = text.split(/\r?\n/)
  if (kind === 'verbatim') return lines.filter((l) => l !== '')
  const out: string[] = []
  for (const raw of lines) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    if (!hasMeta(line)) {
      out.push(line)
      continue
    }
    const absolute = line.startsWith('/')
    // loaded here, not at start-up: it loads picomatch from node_modules (~20 ms), and only patterns need it
    const { glob } = await import('tinyglobby')
    const matches = await glob(absolute ? line.slice(1) : line, {
      cwd: absolute ? '/' : process.cwd(),
      dot: true,
      onlyFiles: false,
      expandDirectories: false,
      followSymbolicLinks: false,
    })
    if (matches.length === 0) warn(`pattern "${line}" does not match any files, skipping`)
    out.push(...matches.map((m) => (absolute ? `/${m}` : m).replace(/\/$/, '')).sort())
  }
  return out
}
