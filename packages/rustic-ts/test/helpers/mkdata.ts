import { fileURLToPath } from 'node:url'
import { run } from './restic.js'

/** The shared benchmark data set generator (`../shared/bench/mkdata.py` beside the repository). */
export const MKDATA = fileURLToPath(new URL('../../../../../shared/bench/mkdata.py', import.meta.url))

/** Runs mkdata.py (`--scale S`, or `--mutate`) on `dir`. */
export async function mkdata(dir: string, args: string[]): Promise<void> {
  const r = await run('python3', [MKDATA, dir, ...args])
  if (r.code !== 0) throw new Error(`mkdata.py failed: ${r.stderr}`)
}
