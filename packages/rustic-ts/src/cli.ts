#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 node --max-semi-space-size=1 --heap-growing-percent=50
import { releaseAllLocks } from '@rustic-ts/core'
import { interruptedLine } from './cli/interrupt.js'
import { runCli } from './cli/program.js'

// Interrupted (Ctrl-C, kill): say in one line what was kept, remove this process's repository locks
// and exit, as restic does, unless the running command handles the signal itself (serve shuts down
// gracefully).
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    if (process.listenerCount(signal) > 0) return
    process.stderr.write(`\n${interruptedLine()}\n`)
    void releaseAllLocks().finally(() => process.exit(code))
  })
}

process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(0)
  throw e
})
process.exitCode = (await runCli(process.argv)) || process.exitCode || 0
