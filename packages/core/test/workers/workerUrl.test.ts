import { existsSync, readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { expect, it } from 'vitest'
import { WORKER_PROGRAMS, workerUrl } from '../../src/workers/workerUrl.js'

it('every worker program of src/workers/ is listed and, run from the sources, found in the build', () => {
  const sources = readdirSync(new URL('../../src/workers/', import.meta.url)).filter((f) => f.endsWith('.worker.ts'))
  expect(sources.map((f) => f.slice(0, -'.worker.ts'.length)).sort()).toEqual([...WORKER_PROGRAMS].sort())
  for (const program of WORKER_PROGRAMS) {
    const url = workerUrl(program)
    expect(fileURLToPath(url)).toBe(fileURLToPath(new URL(`../../dist/${program}.worker.js`, import.meta.url)))
    expect(existsSync(url)).toBe(true)
  }
})
