import { defineConfig } from 'vitest/config'
import { projects } from './vitest.workspace.js'

export default defineConfig({
  test: {
    projects,
    // builds core's worker programs when its sources are newer (see the file)
    globalSetup: ['./vitest.globalSetup.ts'],
    pool: 'forks',
    passWithNoTests: false,
  },
})
