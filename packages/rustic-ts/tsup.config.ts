import { defineConfig } from 'tsup'

// The library (`rustic-ts`): its dependencies stay external. The CLI is built by tsup.cli.config.ts
// (run after this one by `npm run build`, as this one cleans dist/).
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  dts: { entry: 'src/index.ts' },
  sourcemap: false,
  clean: true,
  target: 'node20',
})
