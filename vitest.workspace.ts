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

/** Tests import packages from their sources, so `vitest` needs no build (CLI tests run the built binary). */
export const alias: Record<string, string> = Object.fromEntries([
  ...packages
    .filter((p) => p !== 'rustic-ts')
    .map((p) => [`@rustic-ts/${p}`, fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url))]),
  ['rustic-ts', fileURLToPath(new URL('./packages/rustic-ts/src/index.ts', import.meta.url))],
])

/** One vitest project per package. */
export const projects: TestProjectConfiguration[] = packages.map((p) => ({
  resolve: { alias },
  test: {
    name: p,
    root: fileURLToPath(new URL(`./packages/${p}`, import.meta.url)),
    include: ['test/**/*.test.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
}))

export default projects
