/** The worker programs of core: `src/workers/<name>.worker.ts`, built as `dist/<name>.worker.js`. */
export const WORKER_PROGRAMS = ['seal', 'restore', 'directory', 'verify', 'scrypt'] as const

/** The name of a worker program. */
export type WorkerProgram = (typeof WORKER_PROGRAMS)[number]

/** True when this module runs from its TypeScript source (the tests), not from a build. */
const FROM_SOURCES = import.meta.url.endsWith('.ts')

/**
 * The file of a worker program. In a build (the package's `dist/`, the CLI bundle) this code is bundled
 * into a file of `dist/` and the workers are built next to it, as `<name>.worker.js`. Run from the
 * TypeScript sources (vitest), it takes the workers from the package's build (`packages/core/dist/`):
 * Node cannot run a worker from TypeScript, and the tests' global setup rebuilds it when the sources
 * are newer.
 */
export function workerUrl(program: WorkerProgram): URL {
  return builtFileUrl(`${program}.worker.js`)
}

/**
 * A file the build writes beside the bundled code (a worker program, a WebAssembly module): in `dist/` next to
 * this code, or in `packages/core/dist/` when this module runs from its TypeScript sources (see {@link workerUrl}).
 */
export function builtFileUrl(name: string): URL {
  return FROM_SOURCES ? new URL(`../../dist/${name}`, import.meta.url) : new URL(`./${name}`, import.meta.url)
}
