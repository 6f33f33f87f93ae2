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
 * Test files that need a process of their own: they replace a module (`vi.mock`) or load a second copy of
 * one (`vi.resetModules`), or change the process (working directory, environment, `process.stdout`),
 * which would reach the files run after them in a shared process.
 */
const OWN_PROCESS: Record<string, string[]> = {
  core: [
    'test/util/nativeXattrs.test.ts',
    'test/archiver/sources/LocalSource.errors.test.ts',
    'test/error/RusticError.test.ts',
    'test/backend/BackendError.test.ts',
    'test/crypto/scryptBytes.test.ts',
  ],
  'rustic-ts': ['test/cli/fuzz.test.ts'],
}

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
 * One vitest project per package; core's and rustic-ts's in two. Their tests share worker processes
 * (`isolate: false`): each process imports the sources once instead of once per file, which took longer
 * than most of core's files' tests. Core's interop suites and the files of {@link OWN_PROCESS} run each
 * in a fresh process, as every other package's.
 */
export const projects: TestProjectConfiguration[] = packages.flatMap((p) => {
  const own = OWN_PROCESS[p]
  if (own === undefined) return [project(p, p, { include: ['test/**/*.test.ts'] })]
  const apart = p === 'core' ? ['test/interop/**'] : []
  return [
    project(p, p, { include: ['test/**/*.test.ts'], exclude: [...configDefaults.exclude, ...apart, ...own], isolate: false }),
    // named to sort before the shared one: vitest runs projects in the order of their names, and a long
    // file of its own (the CLI fuzz test) at the very end would keep one worker busy while the others idle
    project(p, `isolated-${p}`, { include: [...apart.map((d) => `${d}/*.test.ts`), ...own] }),
  ]
})

export default projects
