import { availableParallelism } from 'node:os'
import { defineConfig } from 'vitest/config'
import { projects } from './vitest.workspace.js'

export default defineConfig({
  test: {
    projects,
    // caches in a directory of the run; builds core's worker programs when its sources are newer (see the file)
    globalSetup: ['./vitest.globalSetup.ts'],
    pool: 'forks',
    // A worker per core but one (vitest's default), and at least two: many files spend most of their time
    // waiting (restic backing off before it gives up on a refused write, lock retries, servers, npm), and a
    // second file runs meanwhile. On two cores this doubles the processes; CPU-bound files share them.
    maxWorkers: Math.max(2, availableParallelism() - 1),
    passWithNoTests: false,
  },
})
