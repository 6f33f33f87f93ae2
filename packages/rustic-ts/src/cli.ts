#!/usr/bin/env -S node --max-semi-space-size=1 --heap-growing-percent=50
import { runCli } from './cli/program.js'

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0)
  throw e
})
process.exitCode = (await runCli(process.argv)) || process.exitCode || 0
