import { fileURLToPath } from 'node:url'
import type { TestProjectConfiguration } from 'vitest/config'

const packages = [
  'core',
  'backend-local',
  'backend-testkit',
  'backend-rest',
  'backend-rclone',
  'backend-opendal',
  'cache',
  'rest-server',
  'rustic-ts',
]

const source = (path: string): string => fileURLToPath(new URL(`./packages/${path}`, import.meta.url))

/**
 * Tests import packages from their sources, so `vitest` needs no build (CLI tests run the built binary).
 * Each import path is matched whole, so `@rustic-ts/core/internal` does not fall under `@rustic-ts/core`.
 */
export const alias: Array<{ find: RegExp; replacement: string }> = [
  { find: /^@rustic-ts\/core\/internal$/, replacement: source('core/src/internal.ts') },
  ...packages
    .filter((p) => p !== 'rustic-ts')
    .map((p) => ({ find: new RegExp(`^@rustic-ts/${p}$`), replacement: source(`${p}/src/index.ts`) })),
  { find: /^rustic-ts$/, replacement: source('rustic-ts/src/index.ts') },
]

/** One vitest project per package. */
export const projects: TestProjectConfiguration[] = packages.map((p) => ({
  resolve: { alias },
  test: {
    name: p,
    root: fileURLToPath(new URL(`./packages/${p}`, import.meta.url)),
    include: ['test/**/*.test.ts'],
    // byte arrays compared by their bytes in one call (see the file)
    setupFiles: [fileURLToPath(new URL('./vitest.setup.ts', import.meta.url))],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
}))

export default projects
