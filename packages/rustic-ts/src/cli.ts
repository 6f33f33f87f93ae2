#!/usr/bin/env -S MALLOC_MMAP_THRESHOLD_=131072 MALLOC_ARENA_MAX=1 node --max-semi-space-size=1 --heap-growing-percent=50
import * as nodeModule from 'node:module'
import { startEarlyKeyDerivation } from './cli/earlyKey/earlyKeyDerivation.js'

// A command that opens a local repository with a password known from its flags and environment has the key
// derivation (scrypt, ~0.3-0.5 s off the main thread for a key restic made, its lanes on worker threads) started
// now, while the program's modules load and compile on the main thread; opening the repository then takes the
// result (see earlyKeyDerivation).
startEarlyKeyDerivation(process.argv, process.env)
// Node >= 22.10 keeps V8's compiled code of the CLI's ~1.3 MB of JavaScript between runs (in the OS temp
// directory, one folder per Node version and user; written to a temporary file and renamed, so processes running
// side by side do not read half-written entries). Node 20 has no compile cache. Without a writable directory
// (or with NODE_DISABLE_COMPILE_CACHE=1) it is simply not used: enableCompileCache reports that, it never throws.
;(nodeModule as { enableCompileCache?: () => unknown }).enableCompileCache?.()
// Loaded after the line above, so that the program's modules are compiled with the cache.
await import('./cli/main.js')
