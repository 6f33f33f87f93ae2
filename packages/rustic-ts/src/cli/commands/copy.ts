import type { Command } from 'commander'
import { goTimeToDate, Repository, RusticError, shortId, type Credentials, type SnapshotFile } from '@rustic-ts/core'
import { localTimeString } from '@rustic-ts/core/internal'
import { readFile } from 'node:fs/promises'
import { backendsFromOptions, loadBackendClasses, schemeOf } from '../../backendsFromOptions.js'
import { openRepo, optionPrefixes, repositoryOptions, writeOut } from '../context.js'
import { filterFrom, withFilterOptions, type FilterFlags } from '../filterFlags.js'
import { askPassword, backendOptionMap, globalOptions } from '../GlobalOptions.js'
import { canPrompt } from '../passwordPrompt.js'
import { humanBytes } from '../progressBar.js'

interface CopyFlags extends FilterFlags {
  fromRepo?: string
  fromRepositoryFile?: string
  fromPasswordFile?: string
  fromPasswordCommand?: string
  dryRun?: boolean
}

/** `-r DEST copy --from-repo SRC [SNAPSHOT...]`: copies snapshots from another repository (restic 0.14's flags). */
export function registerCopy(program: Command): void {
  withFilterOptions(
    program
      .command('copy')
      .description('copy snapshots from the repository named by --from-repo into this one (-r)')
      .argument('[snapshots...]', 'snapshot ids, prefixes or latest (default: all passing the filters)')
      .option('--from-repo <repo>', 'source repository (env RUSTIC_FROM_REPOSITORY or RESTIC_FROM_REPOSITORY)')
      .option('--from-repository-file <file>', 'file holding the source repository (env RUSTIC_FROM_REPOSITORY_FILE or RESTIC_FROM_REPOSITORY_FILE)')
      .option('--from-password-file <file>', 'password file of the source (env RUSTIC_FROM_PASSWORD_FILE or RESTIC_FROM_PASSWORD_FILE)')
      .option('--from-password-command <cmd>', 'command printing the password of the source (env RUSTIC_FROM_PASSWORD_COMMAND or RESTIC_FROM_PASSWORD_COMMAND)')
      .option('-n, --dry-run', 'only show which snapshots would be copied'),
  ).action(async (specs: string[], f: CopyFlags, cmd: Command) => {
    const g = globalOptions(cmd)
    const fromRepo = await sourceRepository(f)
    const credentials = await fromCredentials(f)
    await loadBackendClasses([fromRepo])
    // -o applies to both repositories: options prefixed with the source's backend (`rest.timeout=1m`) go to
    // it, options without a prefix only when both repositories are of the same kind
    const sameKind = schemeOf(fromRepo) === schemeOf(g.repo ?? '') && (schemeOf(fromRepo) !== 'opendal' || fromRepo === g.repo)
    const sourceBackends = backendsFromOptions({
      repository: fromRepo,
      options: backendOptionMap(g.option, optionPrefixes(fromRepo), sameKind),
      onWarning: (m) => process.stderr.write(`warning: ${m}\n`),
    })
    // As restic: --no-lock applies to the source (it may be read-only); the target is always locked.
    const source = await Repository.open(repositoryOptions(g), sourceBackends, credentials)
    let target: Repository | undefined
    try {
      target = await openRepo(cmd, { lock: true })
      const [src, dst] = await Promise.all([source.toIndexed(), target.toIndexed()])
      const plan = await src.planCopy(dst, { snapshots: specs, filter: filterFrom(f) })
      if (f.dryRun) {
        const rows = plan.snapshots.map((s) => ({ source: s.snapshot.id!, target: s.existing?.id ?? null }))
        if (g.json) return await writeOut(JSON.stringify({ dry_run: true, snapshots: rows }) + '\n')
        if (g.quiet) return
        const lines = plan.snapshots.map((s) =>
          s.existing ? `${describe(s.snapshot)}: already copied to ${shortId(s.existing.id!)}` : `${describe(s.snapshot)}: would be copied`,
        )
        return await writeOut(lines.join('\n') + (lines.length > 0 ? '\n' : 'no snapshots selected\n'))
      }
      const result = await src.copy(plan)
      if (g.json) {
        return await writeOut(
          JSON.stringify({
            copied: result.copied.map((c) => ({ source: c.source.id, target: c.target.id })),
            skipped: result.skipped.map((c) => ({ source: c.source.id, target: c.target.id })),
            data_blobs: result.data.blobs,
            tree_blobs: result.trees.blobs,
            data_added: result.data.dataAdded + result.trees.dataAdded,
            data_added_packed: result.data.dataAddedPacked + result.trees.dataAddedPacked,
          }) + '\n',
        )
      }
      if (g.quiet) return
      const lines = [
        ...result.skipped.map((c) => `${describe(c.source)}: skipped, already copied to ${shortId(c.target.id!)}`),
        ...result.copied.map((c) => `${describe(c.source)}: copied to ${shortId(c.target.id!)}`),
        `copied ${result.copied.length} snapshot(s), skipped ${result.skipped.length}; ` +
          `added ${result.data.blobs} data and ${result.trees.blobs} tree blobs, ` +
          `${humanBytes(result.data.dataAdded + result.trees.dataAdded)} (${humanBytes(result.data.dataAddedPacked + result.trees.dataAddedPacked)} stored)`,
      ]
      await writeOut(lines.join('\n') + '\n')
    } finally {
      await source.close()
      await target?.close()
    }
  })
}

function describe(s: SnapshotFile): string {
  return `snapshot ${shortId(s.id!)} of [${s.paths.join(' ')}] at ${localTimeString(goTimeToDate(s.time))} by ${s.hostname}`
}

/** A `RUSTIC_<name>` variable, else restic's `RESTIC_<name>`. */
function env(name: string): string | undefined {
  return process.env[`RUSTIC_${name}`] ?? process.env[`RESTIC_${name}`]
}

/** The source repository: `--from-repo`, `--from-repository-file`, then RUSTIC_FROM_REPOSITORY[_FILE], then restic's. */
async function sourceRepository(f: CopyFlags): Promise<string> {
  if (f.fromRepo) return f.fromRepo
  if (f.fromRepositoryFile) return repositoryFromFile(f.fromRepositoryFile)
  const fromEnv = env('FROM_REPOSITORY')
  if (fromEnv) return fromEnv
  const file = env('FROM_REPOSITORY_FILE')
  if (file) return repositoryFromFile(file)
  throw new RusticError('InvalidInput', 'no source repository: give --from-repo or set RUSTIC_FROM_REPOSITORY (or RESTIC_FROM_REPOSITORY)', { code: 'NoRepository' })
}

/** The repository string a file holds (restic's `--from-repository-file`). */
async function repositoryFromFile(path: string): Promise<string> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    throw new RusticError('InvalidInput', `cannot read the source repository file ${path}: ${e.code ?? e.message}`, { code: 'NoRepository', cause: e })
  })
  const repo = text.trim()
  if (repo === '') throw new RusticError('InvalidInput', `the source repository file ${path} is empty`, { code: 'NoRepository' })
  return repo
}

/**
 * The source's credentials: flags, then RUSTIC_FROM_PASSWORD[_FILE|_COMMAND], then restic's RESTIC_FROM_...;
 * else, on a terminal, a prompt without echo.
 */
async function fromCredentials(f: CopyFlags): Promise<Credentials> {
  if (f.fromPasswordFile) return { passwordFile: f.fromPasswordFile }
  if (f.fromPasswordCommand) return { passwordCommand: f.fromPasswordCommand }
  for (const prefix of ['RUSTIC', 'RESTIC']) {
    const e = process.env
    if (e[`${prefix}_FROM_PASSWORD`] !== undefined) return { password: e[`${prefix}_FROM_PASSWORD`] }
    if (e[`${prefix}_FROM_PASSWORD_FILE`]) return { passwordFile: e[`${prefix}_FROM_PASSWORD_FILE`] }
    if (e[`${prefix}_FROM_PASSWORD_COMMAND`]) return { passwordCommand: e[`${prefix}_FROM_PASSWORD_COMMAND`] }
  }
  if (canPrompt()) return { password: await askPassword('enter password for source repository: ', false) }
  throw new RusticError(
    'Credentials',
    'no password for the source repository: use --from-password-file, --from-password-command or set RUSTIC_FROM_PASSWORD',
    { code: 'NoPassword' },
  )
}
