import { fileURLToPath } from 'node:url'
import { configDefaults, type TestProjectConfiguration } from 'vitest/config'

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

/**
 * Core's unit tests that need a process of their own: they replace a module (`vi.mock`) or load a second
 * copy of one (`vi.resetModules`), which would reach the files run after them in a shared process.
 */
const CORE_OWN_PROCESS = [
  'test/util/nativeXattrs.test.ts',
  'test/archiver/sources/LocalSource.errors.test.ts',
  'test/error/RusticError.test.ts',
  'test/backend/BackendError.test.ts',
]

const setupFiles = [fileURLToPath(new URL('./vitest.setup.ts', import.meta.url))]

/** A project of the tests of package `p` (`include` relative to its folder). */
function project(p: string, name: string, test: { include: string[]; exclude?: string[]; isolate?: boolean }): TestProjectConfiguration {
  return {
    resolve: { alias },
    test: {
      name,
      root: fileURLToPath(new URL(`./packages/${p}`, import.meta.url)),
      ...test,
      // byte arrays compared by their bytes in one call (see the file)
      setupFiles,
      testTimeout: 120_000,
      hookTimeout: 120_000,
    },
  }
}

/**
 * One vitest project per package; core's in two. Core's unit tests (most of its files) share their worker
 * processes (`isolate: false`): each process imports core's sources once instead of once per file, which
 * took longer than most of those files' tests. Its interop suites (restic runs, native modules) and the
 * files of {@link CORE_OWN_PROCESS} run each in a fresh process, as every other package's.
 */
export const projects: TestProjectConfiguration[] = packages.flatMap((p) =>
  p === 'core'
    ? [
        project(p, 'core', { include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, 'test/interop/**', ...CORE_OWN_PROCESS], isolate: false }),
        project(p, 'core-isolated', { include: ['test/interop/**/*.test.ts', ...CORE_OWN_PROCESS] }),
      ]
    : [project(p, p, { include: ['test/**/*.test.ts'] })],
)

export default projects
