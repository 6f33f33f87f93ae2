import { readFile } from 'node:fs/promises'
import { RusticError } from '../../error/RusticError.js'
import { expandGoEnv } from './expandGoEnv.js'

/** restic's `textfile.Decode`: strips a UTF-8 byte order mark; decodes UTF-16 with a BOM. */
function decodeText(data: Buffer): string {
  if (data[0] === 0xef && data[1] === 0xbb && data[2] === 0xbf) return data.subarray(3).toString('utf8')
  if (data[0] === 0xff && data[1] === 0xfe) return new TextDecoder('utf-16le').decode(data.subarray(2))
  if (data[0] === 0xfe && data[1] === 0xff) return new TextDecoder('utf-16be').decode(data.subarray(2))
  return data.toString('utf8')
}

/**
 * The patterns of an exclude file, as restic's `--exclude-file` reads them: one pattern a line,
 * leading and trailing white space trimmed, empty lines and lines starting with `#` ignored, and
 * environment variables (`$HOME`, `${HOME}`) expanded in each pattern (`$$` is a literal `$`).
 * @param env - the variables to expand (default `process.env`); unset ones expand to `''`.
 */
export async function readExcludeFile(path: string, env: Record<string, string | undefined> = process.env): Promise<string[]> {
  let data: Buffer
  try {
    data = await readFile(path)
  } catch (e) {
    throw new RusticError('InputOutput', `cannot read exclude file ${path}: ${(e as Error).message}`, { cause: e })
  }
  const patterns: string[] = []
  for (const raw of decodeText(data).split('\n')) {
    const line = raw.trim()
    if (line === '' || line.startsWith('#')) continue
    patterns.push(expandGoEnv(line, (name) => (name === '$' ? '$' : (env[name] ?? ''))))
  }
  return patterns
}
