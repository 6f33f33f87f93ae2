import { defineConfig } from 'tsup'

export default defineConfig({
  // The stable API, and everything else for sibling packages and tests (one build: shared chunks keep
  // one copy of each class for both).
  entry: ['src/index.ts', 'src/internal.ts'],
  format: ['esm'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
})
