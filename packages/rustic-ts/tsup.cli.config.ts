import { fileURLToPath } from 'node:url'
import { defineConfig } from 'tsup'

/** Workspace packages the CLI bundles from their sources (one copy of core and of zod for all of them). */
const WORKSPACE = ['core', 'cache', 'backend-local', 'backend-rest', 'backend-rclone', 'backend-opendal']
/** Native addons: never bundled. */
const NATIVE = ['opendal', 'sodium-native', 'zstd-napi', '@napi-rs/xattr']

/**
 * The CLI (dist/cli.js), bundled: loading a few large files instead of ~150 modules (zod alone is 95)
 * starts it ~70 ms sooner. What only some commands need stays in chunks loaded on demand (backends,
 * the cache, tar-stream for `dump`). Native addons stay external; the code that loads them at run time
 * (`createRequire(import.meta.url)`) resolves them from dist/. Run after tsup.config.ts, which cleans dist/.
 */
export default defineConfig({
  entry: ['src/cli.ts'],
  format: ['esm'],
  sourcemap: true,
  clean: false,
  target: 'node20',
  external: NATIVE,
  noExternal: [new RegExp(`^(?!(${NATIVE.join('|')})(/|$))`)],
  esbuildPlugins: [
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
})
