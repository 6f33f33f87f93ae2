import { Command, CommanderError } from 'commander'
import { isRusticError } from '@rustic-ts/core'
import { registerBackup } from './commands/backup.js'
import { registerCat } from './commands/cat.js'
import { registerCheck } from './commands/check.js'
import { registerConfig } from './commands/config.js'
import { registerCopy } from './commands/copy.js'
import { registerDiff } from './commands/diff.js'
import { registerDump } from './commands/dump.js'
import { registerFind } from './commands/find.js'
import { registerForget } from './commands/forget.js'
import { registerGenerate } from './commands/generate.js'
import { registerInit } from './commands/init.js'
import { registerKey } from './commands/key.js'
import { registerList } from './commands/list.js'
import { registerLs } from './commands/ls.js'
import { registerPrune } from './commands/prune.js'
import { registerMerge } from './commands/merge.js'
import { registerRepair } from './commands/repair.js'
import { registerRepoInfo } from './commands/repoinfo.js'
import { registerRestore } from './commands/restore.js'
import { registerServe } from './commands/serve.js'
import { registerShowConfig } from './commands/showConfig.js'
import { registerSnapshots } from './commands/snapshots.js'
import { registerStats } from './commands/stats.js'
import { registerUnlock } from './commands/unlock.js'
import { registerTag } from './commands/tag.js'
import { PROGRAM_VERSION } from '@rustic-ts/core/internal'
import { collect, increase } from './GlobalOptions.js'
import { interruptedLine } from './interrupt.js'
import { withProfiles } from './profileOptions.js'

/** The `rustic-ts` command line program. */
export function buildProgram(): Command {
  const program = new Command('rustic-ts')
    .description('fast, encrypted, deduplicated backups in the restic repository format')
    .version(`${PROGRAM_VERSION} (node ${process.version} on ${process.platform}/${process.arch})`, '-V, --version', 'print the version and exit')
    .option('-r, --repo <repo>', 'repository: a path, local:PATH, rest:URL, rclone:REMOTE:PATH or opendal:SCHEME (env RUSTIC_REPOSITORY, RESTIC_REPOSITORY)')
    .option('--repo-hot <repo>', 'hot repository (everything but data packs)')
    .option('-p, --password-file <file>', 'read the password from a file (env RUSTIC_PASSWORD_FILE, RESTIC_PASSWORD_FILE)')
    .option('--password-command <cmd>', 'run a command that prints the password (env RUSTIC_PASSWORD_COMMAND, RESTIC_PASSWORD_COMMAND)')
    .option('--cache-dir <dir>', 'cache directory (default ~/.cache/rustic-ts)')
    .option('--no-cache', 'do not use a cache')
    .option('--json', 'machine-readable output on stdout')
    .option('-q, --quiet', 'print no progress and no summaries, only warnings and errors')
    .option('-v, --verbose', 'print more (repeat for even more: -vv)', increase)
    .option('--no-progress', 'do not show progress bars')
    .option('-o, --option <key=value>', 'backend option, e.g. timeout=30s, local.layout=default, bucket=b for opendal:s3 (repeatable)', collect)
    .option('--opendal <key=value>', 'same as -o/--option (older name)', collect)
    .option('--no-lock', 'take no locks (only for repositories that no restic client uses)')
    .option('--retry-lock <duration>', "wait up to this long for another client's lock, e.g. 30s, 5m (default: fail at once)")
    .showHelpAfterError(false)
    // commander's own messages (unknown option, missing argument) get the prefix every error line has
    .configureOutput({ writeErr: (s) => process.stderr.write(s), outputError: (s, write) => write(`rustic-ts: ${s}`) })
    .exitOverride()
  withProfiles(program, collect)
  for (const register of [registerInit, registerBackup, registerSnapshots, registerLs, registerRestore, registerFind, registerDiff, registerDump, registerCat, registerKey, registerTag, registerForget, registerUnlock, registerPrune, registerServe]) register(program)
  registerCheck(program)
  registerRepair(program)
  registerList(program)
  registerShowConfig(program)
  for (const register of [registerCopy, registerMerge, registerStats, registerRepoInfo, registerConfig]) register(program)
  registerGenerate(program)
  return program
}

/** Runs the CLI; resolves with the exit code (0 success, 1 error, 130 interrupted). Errors are printed as one line on stderr. */
export async function runCli(argv: string[]): Promise<number> {
  const program = buildProgram()
  try {
    await program.parseAsync(argv)
    return 0
  } catch (e) {
    if (e instanceof CommanderError) {
      return e.exitCode === 0 ? 0 : 1 // commander already printed its message
    }
    if (isRusticError(e, 'Aborted')) {
      process.stderr.write(`${interruptedLine()}\n`)
      return 130
    }
    const msg = isRusticError(e) ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e)
    process.stderr.write(`rustic-ts: error: ${msg.split('\n')[0]}\n`)
    if (process.env['RUSTIC_DEBUG']) console.error(e)
    return 1
  }
}
