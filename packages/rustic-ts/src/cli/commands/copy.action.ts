import type { Command } from 'commander'
import {
  goTimeToDate,
  isRusticError,
  Repository,
  RusticError,
  shortId,
  type ConfigFile,
  type Credentials,
  type IndexedRepository,
  type SnapshotFile,
  type SnapshotFilter,
} from '@rustic-ts/core'
import { localTimeString } from '@rustic-ts/core/internal'
import { readFile } from 'node:fs/promises'
import { backendsFromOptions, loadBackendClasses, schemeOf } from '../../backendsFromOptions.js'
import { openRepo, optionPrefixes, repositoryOptions, writeOut } from '../context.js'
import { filterFrom, type FilterFlags } from '../filterFlags.js'
import { askPassword, backendOptionMap, globalOptions, type GlobalOptions } from '../GlobalOptions.js'
import { canPrompt } from '../passwordPrompt.js'
import { loadProfiles } from '../../profile/loadProfiles.js'
import type { ProfileRepository } from '../../profile/Profile.js'
import { maskRepository } from '../maskRepository.js'
import { humanBytes } from '../progressBar.js'

interface CopyFlags extends FilterFlags {
  fromRepo?: string
  fromRepositoryFile?: string
  fromPasswordFile?: string
  fromPasswordCommand?: string
  target?: string[]
  init?: boolean
  dryRun?: boolean
}

/** What to copy and how to print it, the same for every target. */
interface CopyRun {
  specs: string[]
  filter: SnapshotFilter
  dryRun: boolean
  json: boolean
  /** `-q`: print nothing but errors (JSON still goes out with `--json`). */
  quiet: boolean
  /** The target's name in rustic's form (one JSON line and a heading per target); undefined in restic's. */
  name?: string
}

/**
 * rustic's form: copies the repository of the global options into each target, one after the other; a
 * target that fails is reported and the others are still copied into, then the command fails.
 */
async function copyToTargets(cmd: Command, targets: ReadonlyArray<string | ProfileRepository>, run: CopyRun, init: boolean): Promise<void> {
  if (targets.length === 0) {
    throw new RusticError(
      'InvalidInput',
      'nothing to copy from or into: give --from-repo SOURCE, or --target PROFILE, or [copy] targets = ["PROFILE"] in a profile',
      { code: 'NoRepository' },
    )
  }
  const g = globalOptions(cmd)
  const source = await openRepo(cmd)
  const failed: string[] = []
  try {
    const indexed = await source.toIndexed()
    for (const [i, t] of targets.entries()) {
      const name = typeof t === 'string' ? t : maskRepository(t.backend?.repository ?? `[[copy.targets]] #${i + 1}`)
      try {
        if (!run.json && !run.quiet) await writeOut(`${i > 0 ? '\n' : ''}copying to target ${name}:\n`)
        const target = await openTarget(g, t, name, init && !run.dryRun ? { config: source.config, quiet: run.json || run.quiet } : undefined)
        try {
          await copyInto(indexed, target, { ...run, name })
        } finally {
          await target.close()
        }
      } catch (e) {
        failed.push(name)
        process.stderr.write(`rustic-ts: error: copy target ${name}: ${(e as Error).message}\n`)
      }
    }
  } finally {
    await source.close()
  }
  if (failed.length > 0) {
    throw new RusticError('Repository', `copying into ${failed.length} of ${targets.length} target(s) failed: ${failed.join(', ')}`, { code: 'CopiesFailed' })
  }
}

/**
 * Opens a copy target (locked): a profile's `[repository]` (read as `-P NAME` reads it, without the
 * environment, which names the source) or a `[[copy.targets]]` table, with its own cache and lock options.
 * With `init` (the source's config), a target without a repository is created with the source's version
 * and chunker polynomial, so that the copies deduplicate as the source does (said on stdout unless `quiet`).
 */
async function openTarget(
  g: GlobalOptions,
  t: string | ProfileRepository,
  name: string,
  init?: { config: ConfigFile; quiet: boolean },
): Promise<Repository> {
  const target = typeof t === 'string' ? (await loadProfiles([t])).repository : t
  if (target.backend === undefined) {
    throw new RusticError('InvalidInput', `copy target ${name}: the profile gives no repository`, { code: 'NoRepository' })
  }
  if (target.credentials === undefined) {
    throw new RusticError('Credentials', `copy target ${name}: the profile gives no password, password-file or password-command`, { code: 'NoPassword' })
  }
  await loadBackendClasses([target.backend.repository, target.backend.repoHot])
  const backends = backendsFromOptions({ ...target.backend, onWarning: (m) => process.stderr.write(`warning: ${m}\n`) })
  const { progress, onWarning, cache, retryLockMs } = repositoryOptions(g)
  const options = { progress, onWarning, cache, retryLockMs, ...target.options, lock: true }
  try {
    return await Repository.open(options, backends, target.credentials)
  } catch (e) {
    if (init === undefined || !isRusticError(e, 'RepositoryNotFound')) throw e
    if (!init.quiet) await writeOut(`creating the repository of target ${name}\n`)
    const { version, chunkerPolynomial } = init.config
    return await Repository.init(options, backends, target.credentials, { version, chunkerPolynomial })
  }
}

/** Plans the copy of `run`'s snapshots from `source` into `target`, and copies them or prints the plan. */
async function copyInto(source: IndexedRepository, targetRepo: Repository, run: CopyRun): Promise<void> {
  const target = await targetRepo.toIndexed()
  const plan = await source.planCopy(target, { snapshots: run.specs, filter: run.filter })
  const named = run.name === undefined ? {} : { target: run.name }
  if (run.dryRun) {
    const rows = plan.snapshots.map((s) => ({ source: s.snapshot.id!, target: s.existing?.id ?? null }))
    if (run.json) return await writeOut(JSON.stringify({ ...named, dry_run: true, snapshots: rows }) + '\n')
    if (run.quiet) return
    const lines = plan.snapshots.map((s) =>
      s.existing ? `${describe(s.snapshot)}: already copied to ${shortId(s.existing.id!)}` : `${describe(s.snapshot)}: would be copied`,
    )
    return await writeOut(lines.join('\n') + (lines.length > 0 ? '\n' : 'no snapshots selected\n'))
  }
  const result = await source.copy(plan)
  if (run.json) {
    return await writeOut(
      JSON.stringify({
        ...named,
        copied: result.copied.map((c) => ({ source: c.source.id, target: c.target.id })),
        skipped: result.skipped.map((c) => ({ source: c.source.id, target: c.target.id })),
        data_blobs: result.data.blobs,
        tree_blobs: result.trees.blobs,
        data_added: result.data.dataAdded + result.trees.dataAdded,
        data_added_packed: result.data.dataAddedPacked + result.trees.dataAddedPacked,
      }) + '\n',
    )
  }
  if (run.quiet) return
  const lines = [
    ...result.skipped.map((c) => `${describe(c.source)}: skipped, already copied to ${shortId(c.target.id!)}`),
    ...result.copied.map((c) => `${describe(c.source)}: copied to ${shortId(c.target.id!)}`),
    `copied ${result.copied.length} snapshot(s), skipped ${result.skipped.length}; ` +
      `added ${result.data.blobs} data and ${result.trees.blobs} tree blobs, ` +
      `${humanBytes(result.data.dataAdded + result.trees.dataAdded)} (${humanBytes(result.data.dataAddedPacked + result.trees.dataAddedPacked)} stored)`,
  ]
  await writeOut(lines.join('\n') + '\n')
}

function describe(s: SnapshotFile): string {
  return `snapshot ${shortId(s.id!)} of [${s.paths.join(' ')}] at ${localTimeString(goTimeToDate(s.time))} by ${s.hostname}`
}

/** A `RUSTIC_<name>` variable, else restic's `RESTIC_<name>`. */
function env(name: string): string | undefined {
  return process.env[`RUSTIC_${name}`] ?? process.env[`RESTIC_${name}`]
}

/**
 * The source repository of restic's form: `--from-repo`, `--from-repository-file`, then
 * RUSTIC_FROM_REPOSITORY[_FILE], then restic's RESTIC_FROM_...; undefined when none is given (rustic's form).
 */
async function sourceRepository(f: CopyFlags): Promise<string | undefined> {
  if (f.fromRepo) return f.fromRepo
  if (f.fromRepositoryFile) return repositoryFromFile(f.fromRepositoryFile)
  const fromEnv = env('FROM_REPOSITORY')
  if (fromEnv) return fromEnv
  const file = env('FROM_REPOSITORY_FILE')
  return file ? repositoryFromFile(file) : undefined
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

/** The `copy` command's action (loaded when it runs). */
export async function copyAction(specs: string[], f: CopyFlags, cmd: Command): Promise<void> {
  const g = globalOptions(cmd)
  const run: CopyRun = { specs, filter: filterFrom(f), dryRun: f.dryRun ?? false, json: g.json ?? false, quiet: g.quiet ?? false }
  const fromRepo = await sourceRepository(f)
  if (!fromRepo) return await copyToTargets(cmd, f.target ?? g.profile?.copy.targets ?? [], run, f.init ?? false)
  if (f.target !== undefined || f.init) {
    throw new RusticError('InvalidInput', '--from-repo copies into this repository, --target and --init are for copying out of it: give one of them', {
      code: 'InvalidOptions',
    })
  }
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
    await copyInto(await source.toIndexed(), target, run)
  } finally {
    await source.close()
    await target?.close()
  }
}

