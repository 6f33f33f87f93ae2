import { fileURLToPath } from 'node:url'
import { defineConfig } from 'tsup'
import { compileWat } from './compileWat.js'

/** Core's worker programs: `src/workers/<name>.worker.ts`, built as `dist/<name>.worker.js`. */
const WORKERS = ['seal', 'restore', 'directory', 'verify', 'scrypt']

/**
 * Two builds into dist/. The library: the stable API (index.js) and everything else for sibling
 * packages and tests (internal.js), in one build whose shared chunks keep one copy of each class for
 * both. The worker programs (dist/<name>.worker.js, loaded by `workerUrl` from next to the bundle), each
 * one whole (no code splitting), so a worker loads one file. The library's build cleans dist/ but
 * leaves the workers' files, which the second build (run at the same time) writes; then it compiles the
 * WebAssembly modules (`src/crypto/*.wat`, see compileWat) into dist/.
 */
export default defineConfig([
  {
    entry: ['src/index.ts', 'src/internal.ts'],
    format: ['esm'],
    dts: true,
    sourcemap: false,
    clean: ['!*.worker.js'],
    target: 'node20',
    onSuccess: () => compileWat(fileURLToPath(new URL('./dist', import.meta.url))),
  },
  {
    entry: Object.fromEntries(WORKERS.map((w) => [`${w}.worker`, `src/workers/${w}.worker.ts`])),
    format: ['esm'],
    dts: false,
    splitting: false,
    sourcemap: false,
    clean: false,
    target: 'node20',
  },
])
