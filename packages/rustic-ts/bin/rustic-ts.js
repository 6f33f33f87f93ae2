#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 MALLOC_ARENA_MAX=1 node --max-semi-space-size=1 --heap-growing-percent=50
// The `rustic-ts` command: the built CLI (dist/cli.js), started with the same Node flags (and glibc malloc setting) as its own first line.
// This small file is committed, not built, because npm links a workspace's command only if its file exists at
// install time: in a fresh checkout, `npm ci` runs before `npm run build` makes dist/.
import '../dist/cli.js'
