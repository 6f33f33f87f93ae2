import { readdir, readFile, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { defineConfig, type Options } from 'tsup'
import { compileWat } from '../core/compileWat.js'
import { coreDeepImports } from './coreDeepImports.js'

/** Workspace packages the CLI bundles from their sources (one copy of core and of zod for all of them). */
const WORKSPACE = ['core', 'cache', 'backend-local', 'backend-rest', 'backend-rclone', 'backend-opendal', 'rest-server']
/** Native addons: never bundled. */
const NATIVE = ['opendal', 'sodium-native', 'zstd-napi', '@napi-rs/xattr', 'koffi']

/** Core's worker programs, built next to the CLI (core's `workerUrl` loads them from beside the bundle). */
const WORKERS = ['seal', 'restore', 'directory', 'verify', 'scrypt']

/** What the CLI and its workers are built with. */
const common: Options = {
  format: ['esm'],
  sourcemap: false,
  clean: false,
  target: 'node20',
  external: NATIVE,
  noExternal: [new RegExp(`^(?!(${NATIVE.join('|')})(/|$))`)],
  esbuildPlugins: [
    // the entry's and the program's start-up files import core's names from their own files (see coreDeepImports)
    coreDeepImports(fileURLToPath(new URL('./src/cli.ts', import.meta.url)), fileURLToPath(new URL('./src/cli/main.ts', import.meta.url))),
    {
      // `@rustic-ts/<package>` and `@rustic-ts/core/internal` from their sources.
      name: 'workspace-sources',
      setup(build) {
        const pattern = new RegExp(`^@rustic-ts/(${WORKSPACE.join('|')})(/internal)?$`)
        build.onResolve({ filter: /^@rustic-ts\// }, (args) => {
          const m = pattern.exec(args.path)
          if (!m) return undefined
          return { path: fileURLToPath(new URL(`../${m[1]}/src/${m[2] ? 'internal' : 'index'}.ts`, import.meta.url)) }
        })
      },
    },
    {
      // zod's `z.locales` namespace (~360 kB of translated messages, never used here) is left out of the
      // CLI: ~8 ms less to compile at every start. The default English messages (locales/en.js) stay.
      name: 'zod-without-locales',
      setup(build) {
        build.onResolve({ filter: /\/locales\/index\.js$/ }, (args) =>
          /[\\/]zod[\\/]/.test(args.importer) ? { path: 'zod-locales', namespace: 'empty' } : undefined,
        )
        build.onLoad({ filter: /.*/, namespace: 'empty' }, () => ({ contents: 'export {}', loader: 'js' }))
      },
    },
  ],
  // Bundled CommonJS dependencies (commander, picomatch, ...) call require() for Node built-ins.
  banner: {
    js: "import { createRequire as __rusticCreateRequire } from 'node:module'; const require = __rusticCreateRequire(import.meta.url);",
  },
}

/**
 * Rewrites the non-ASCII characters esbuild leaves in the built files (in comments it keeps, e.g. `—`, `≤`)
 * as `\u{...}` escapes. One such character makes V8 hold the whole file's source as a two-byte string: for
 * the ~1 MB chunk of core and zod that every command loads, ~1 MiB more memory and a slower decode at start.
 * The escape means the same character in a string, a template or an identifier, and in a comment nothing.
 */
async function asciiOnly(files: (name: string) => boolean): Promise<void> {
  const dist = fileURLToPath(new URL('./dist/', import.meta.url))
  for (const name of (await readdir(dist)).filter((n) => n.endsWith('.js') && files(n))) {
    const text = await readFile(dist + name, 'utf8')
    const ascii = text.replace(/[^\x00-\x7f]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`)
    if (ascii !== text) await writeFile(dist + name, ascii)
  }
}

const isWorker = (name: string): boolean => WORKERS.some((w) => name === `${w}.worker.js`)

/**
 * The CLI (dist/cli.js), bundled: loading a few large files instead of ~150 modules (zod alone is 95)
 * starts it ~70 ms sooner. What only some commands need stays in chunks loaded on demand (backends,
 * the cache). Native addons stay external; the code that loads them at run time
 * (`createRequire(import.meta.url)`) resolves them from dist/. Core's worker programs are built beside it
 * (dist/<name>.worker.js), each one whole (no chunks shared with the CLI, whose chunks stay as they were),
 * and core's WebAssembly modules (dist/<name>.wasm). Run after tsup.config.ts, which cleans dist/.
 */
export default defineConfig([
  // dist/index.js is the library's (tsup.config.ts), left as it is.
  {
    ...common,
    entry: ['src/cli.ts'],
    onSuccess: async () => {
      await asciiOnly((n) => n !== 'index.js' && !isWorker(n))
      // core's WebAssembly modules, loaded from beside the bundle as in core's own build
      await compileWat(fileURLToPath(new URL('./dist', import.meta.url)))
    },
  },
  {
    ...common,
    entry: Object.fromEntries(WORKERS.map((w) => [`${w}.worker`, `../core/src/workers/${w}.worker.ts`])),
    splitting: false,
    onSuccess: () => asciiOnly(isWorker),
  },
])
