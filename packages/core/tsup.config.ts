import { defineConfig } from 'tsup'

/**
 * The library (dist/index.js) and its worker programs (dist/<name>.worker.js, loaded by `workerUrl` from
 * next to the bundle). No code splitting: each file is whole, so a worker loads one file, and the library
 * stays one file as before.
 */
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    'seal.worker': 'src/workers/seal.worker.ts',
    'restore.worker': 'src/workers/restore.worker.ts',
    'directory.worker': 'src/workers/directory.worker.ts',
  },
  format: ['esm'],
  dts: { entry: { index: 'src/index.ts' } },
  splitting: false,
  sourcemap: true,
  clean: true,
  target: 'node20',
})
