import { execFileSync } from 'node:child_process'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/**
 * Caches of the rustic-ts command lines and repositories the tests open without `--no-cache` go to a
 * directory of this run (removed at its end) instead of the user's `~/.cache/rustic-ts`: test files run
 * side by side (and the suites of two Node versions), and one of them checks that nothing writes there.
 * Then builds core's worker programs (see {@link buildWorkers}).
 */
export default function setup(): () => void {
  const cache = mkdtempSync(join(tmpdir(), 'rustic-ts-test-cache-'))
  process.env['XDG_CACHE_HOME'] = cache
  buildWorkers()
  return () => rmSync(cache, { recursive: true, force: true })
}

/**
 * Tests run core from its TypeScript sources, but Node runs worker threads only from JavaScript: core's
 * `workerUrl` then takes the worker programs (and `builtFileUrl` the WebAssembly modules) from
 * `packages/core/dist/`. This builds them (JavaScript only, a second or so) before the tests when they are
 * missing or older than any source of core, so that the workers always run the code under test.
 */
function buildWorkers(): void {
  const core = fileURLToPath(new URL('./packages/core/', import.meta.url))
  const workers = readdirSync(join(core, 'src', 'workers')).filter((f) => f.endsWith('.worker.ts'))
  // the worker programs and the WebAssembly module(s) compiled from src/crypto/*.wat
  const outputs = [...workers.map((f) => f.replace(/\.ts$/, '.js')), 'romix.wasm']
  const built = outputs.map((f) => mtime(join(core, 'dist', f)))
  const sources = Math.max(newest(join(core, 'src')), mtime(join(core, 'tsup.config.ts')), mtime(join(core, 'compileWat.ts')))
  if (built.every((t) => t >= sources)) return
  const start = Date.now()
  execFileSync(process.execPath, ['--input-type=module', '-e', "await (await import('tsup')).build({ dts: false, clean: false, silent: true })"], {
    cwd: core,
    stdio: 'inherit',
  })
  // the chunks of the build before (named by their content) would stay in dist/ and be packed
  for (const f of readdirSync(join(core, 'dist'))) {
    if (/^chunk-\w+\.js$/.test(f) && mtime(join(core, 'dist', f)) < start) rmSync(join(core, 'dist', f))
  }
}

/** Modification time in ms, 0 if the file is missing. */
function mtime(path: string): number {
  try {
    return statSync(path).mtimeMs
  } catch {
    return 0
  }
}

/** The newest modification time of the files below `dir`. */
function newest(dir: string): number {
  let t = 0
  for (const e of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (e.isFile()) t = Math.max(t, mtime(join(e.parentPath, e.name)))
  }
  return t
}
