import type {
  BackupOptions,
  CheckOptions,
  Credentials,
  DiffOptions,
  DumpOptions,
  FindOptions,
  ForgetOptions,
  GroupSnapshotsOptions,
  LsOptions,
  PruneOptions,
  RepositoryOptions,
  RestoreOptions,
  SnapshotFilter,
  StatsOptions,
  UnlockOptions,
} from '@rustic-ts/core'
import { parseDurationMs, type BackendOptions } from '../backendsFromOptions.js'
import { mergeProfileSettings } from './mergeProfileSettings.js'
import { BACKUP_SNAPSHOT_FIELDS, LOCAL_SOURCE_KEYS } from './ProfileSchema.js'
import type { ProfileSettings } from './readProfileFile.js'

/** A profile's `[repository]` (or a `[copy]` target) as the arguments of `openRepository`. */
export interface ProfileRepository {
  /** The repository strings and backend options; undefined when the profile names no repository. */
  backend?: BackendOptions
  /** The password, password file or password command; undefined when the profile gives none. */
  credentials?: Credentials
  /** Cache, warm-up, concurrency and lock options. */
  options: RepositoryOptions
}

/** One `[[backup.snapshots]]` entry: what to back up, with `[backup]`'s options under its own. */
export interface ProfileBackupSnapshot {
  /** Its `name`, if it has one. */
  name?: string
  /** The paths to back up (`["-"]`: standard input); empty with `stdinCommand`. */
  sources: string[]
  /** Back up this command's output instead of paths. */
  stdinCommand?: string
  /** File name of standard input or of `stdinCommand`'s output. */
  stdinFilename?: string
  /** The options of `IndexedRepository.backup`. */
  options: BackupOptions
  /** The entry's settings over `[backup]`'s, camelCase, as the files give them. */
  settings: ProfileSettings
}

/** `[backup]`: the defaults of every backup, and the entries `rustic-ts backup` without paths backs up. */
export interface ProfileBackup {
  /** The options of `IndexedRepository.backup`. */
  options: BackupOptions
  /** Back up this command's output (`stdin-command`). */
  stdinCommand?: string
  /** File name of standard input (`stdin-filename`). */
  stdinFilename?: string
  /** The `[[backup.snapshots]]` entries. */
  snapshots: ProfileBackupSnapshot[]
}

/** `[global]`. */
export interface ProfileGlobal {
  /** Commands that can write do nothing. */
  dryRun?: boolean
  /** No progress bars. */
  noProgress?: boolean
  /** How commands group snapshots by default (`host,label,paths`). */
  groupBy?: string
  /** Environment variables for the commands that rustic-ts runs (rclone, password and warm-up commands). */
  env: Record<string, string>
}

/**
 * Merged profiles: each section as the library options of its command, ready to pass on
 * (`repo.planForget(profile.forget)`, `indexed.backup(paths, profile.backup.options)`). Only what the
 * profiles give is set: the schemas fill in the defaults when the options are used.
 */
export interface Profile {
  /** The files read, in the order they were merged (later ones win). */
  files: string[]
  /** Sections read past (for commands rustic-ts does not have), one message each. */
  warnings: string[]
  /** The merged settings, camelCase, as the files give them (environment overrides applied). */
  settings: ProfileSettings
  /** `[global]`. */
  global: ProfileGlobal
  /** `[repository]`. */
  repository: ProfileRepository
  /** `[snapshot-filter]`: the snapshot filter of every command that filters snapshots. */
  snapshotFilter: SnapshotFilter
  /** `[backup]` and its `[[backup.snapshots]]`. */
  backup: ProfileBackup
  /**
   * `[forget]`, with `[snapshot-filter]` under its own filter keys; with `prune = true`, `prune` holds
   * `[prune]`'s options (or `true` when `[prune]` is empty).
   */
  forget: ForgetOptions
  /** `[prune]`: the options of `Repository.planPrune` (and of forget's prune). */
  prune: PruneOptions
  /** `[restore]`. */
  restore: RestoreOptions
  /** `[check]`, with `[snapshot-filter]`. */
  check: CheckOptions
  /** `[snapshots]`, with `[snapshot-filter]`. */
  snapshots: GroupSnapshotsOptions
  /** `[ls]`. */
  ls: LsOptions
  /** `[find]`, with `[snapshot-filter]`. */
  find: FindOptions
  /** `[diff]`. */
  diff: DiffOptions
  /** `[dump]`. */
  dump: DumpOptions
  /** `[unlock]`. */
  unlock: UnlockOptions
  /** `[stats]`, with `[snapshot-filter]`. */
  stats: StatsOptions
  /**
   * `[copy]`: the repositories `rustic-ts copy` copies the profile's repository into, as profile names
   * (whose `[repository]` is the target) or `[[copy.targets]]` tables.
   */
  copy: { targets: Array<string | ProfileRepository> }
}

type Settings = Record<string, unknown>

const section = (s: ProfileSettings, name: string): Settings => (s[name] as Settings | undefined) ?? {}

/** The keys of `s` but `keys`. */
function without(s: Settings, keys: readonly string[]): Settings {
  return Object.fromEntries(Object.entries(s).filter(([k]) => !keys.includes(k)))
}

/** `filter-*` keys as a {@link SnapshotFilter}. */
function filterOf(s: Settings): SnapshotFilter {
  const f: SnapshotFilter = {}
  if (s['filterHosts'] !== undefined) f.hosts = s['filterHosts'] as string[]
  if (s['filterLabels'] !== undefined) f.labels = s['filterLabels'] as string[]
  if (s['filterPaths'] !== undefined) f.paths = s['filterPaths'] as string[]
  if (s['filterTags'] !== undefined) f.tags = (s['filterTags'] as string[]).map((t) => t.split(',').map((x) => x.trim()))
  if (s['filterAfter'] !== undefined) f.after = s['filterAfter'] as Date | string
  if (s['filterBefore'] !== undefined) f.before = s['filterBefore'] as Date | string
  return f
}
const FILTER_KEYS = ['filterHosts', 'filterLabels', 'filterPaths', 'filterTags', 'filterAfter', 'filterBefore']

/** A `[repository]` table as the arguments of `openRepository`. */
export function repositoryOf(s: Settings): ProfileRepository {
  const options: RepositoryOptions = {}
  for (const k of ['cacheDir', 'noCache', 'warmUp', 'warmUpCommand', 'warmUpBatch', 'warmUpWaitCommand', 'concurrency', 'lock'] as const) {
    if (s[k] !== undefined) (options as Record<string, unknown>)[k] = s[k]
  }
  if (s['warmUpWait'] !== undefined) options.warmUpWaitMs = durationMs(s['warmUpWait'] as string)
  if (s['retryLock'] !== undefined) options.retryLockMs = durationMs(s['retryLock'] as string)
  const out: ProfileRepository = { options }
  if (s['repository'] !== undefined) {
    const backend: BackendOptions = { repository: s['repository'] as string }
    if (s['repoHot'] !== undefined) backend.repoHot = s['repoHot'] as string
    if (s['options'] !== undefined) backend.options = s['options'] as Record<string, string>
    if (s['optionsHot'] !== undefined) backend.optionsHot = s['optionsHot'] as Record<string, string>
    if (s['optionsCold'] !== undefined) backend.optionsCold = s['optionsCold'] as Record<string, string>
    out.backend = backend
  }
  if (s['password'] !== undefined) out.credentials = { password: s['password'] as string }
  else if (s['passwordFile'] !== undefined) out.credentials = { passwordFile: s['passwordFile'] as string }
  else if (s['passwordCommand'] !== undefined) out.credentials = { passwordCommand: s['passwordCommand'] as string }
  return out
}

/** `[backup]` keys (or an entry's) as backup options: the local source's keys go into `local`. */
function backupOptionsOf(s: Settings): BackupOptions {
  const local: Settings = {}
  const rest: Settings = {}
  for (const [k, v] of Object.entries(without(s, ['snapshots', 'sources', 'name', 'stdinCommand', 'stdinFilename']))) {
    if ((LOCAL_SOURCE_KEYS as readonly string[]).includes(k)) local[k] = v
    else rest[k] = v
  }
  return (Object.keys(local).length > 0 ? { ...rest, local } : rest) as BackupOptions
}

function stdinOf(s: Settings): { stdinCommand?: string; stdinFilename?: string } {
  return {
    ...(s['stdinCommand'] !== undefined && { stdinCommand: s['stdinCommand'] as string }),
    ...(s['stdinFilename'] !== undefined && { stdinFilename: s['stdinFilename'] as string }),
  }
}

/** The section under the key `groupBy`: its own, else `[global]`'s. */
function withGroupBy(s: Settings, global: Settings): Settings {
  return s['groupBy'] === undefined && global['groupBy'] !== undefined ? { ...s, groupBy: global['groupBy'] } : s
}

/** Merged settings as typed library options (see {@link Profile}). */
export function profileFromSettings(settings: ProfileSettings, files: string[], warnings: string[]): Profile {
  const global = section(settings, 'global')
  const filter = filterOf(section(settings, 'snapshotFilter'))
  const withFilter = (s: Settings): Settings => (Object.keys(filter).length > 0 ? { ...s, filter } : s)
  const backup = section(settings, 'backup')
  const forget = section(settings, 'forget')
  const forgetFilter = { ...filter, ...filterOf(forget) }
  const prune = section(settings, 'prune') as PruneOptions
  return {
    files,
    warnings,
    settings,
    global: {
      ...(global['dryRun'] !== undefined && { dryRun: global['dryRun'] as boolean }),
      ...(global['noProgress'] !== undefined && { noProgress: global['noProgress'] as boolean }),
      ...(global['groupBy'] !== undefined && { groupBy: global['groupBy'] as string }),
      env: (global['env'] as Record<string, string> | undefined) ?? {},
    },
    repository: repositoryOf(section(settings, 'repository')),
    snapshotFilter: filter,
    backup: {
      options: backupOptionsOf(backup),
      ...stdinOf(backup),
      snapshots: ((backup['snapshots'] as Settings[] | undefined) ?? []).map((entry) => {
        const merged = mergeProfileSettings(without(backup, ['snapshots']), entry, BACKUP_SNAPSHOT_FIELDS)
        return {
          ...(entry['name'] !== undefined && { name: entry['name'] as string }),
          sources: (entry['sources'] as string[] | undefined) ?? [],
          ...stdinOf(merged),
          options: backupOptionsOf(merged),
          settings: merged,
        }
      }),
    },
    forget: {
      ...without(withGroupBy(forget, global), FILTER_KEYS),
      ...(Object.keys(forgetFilter).length > 0 && { filter: forgetFilter }),
      ...(forget['prune'] === true && Object.keys(prune).length > 0 && { prune }),
    } as ForgetOptions,
    prune,
    restore: section(settings, 'restore') as RestoreOptions,
    check: withFilter(section(settings, 'check')) as CheckOptions,
    snapshots: withFilter(withGroupBy(section(settings, 'snapshots'), global)) as GroupSnapshotsOptions,
    ls: section(settings, 'ls') as LsOptions,
    find: withFilter(section(settings, 'find')) as FindOptions,
    diff: section(settings, 'diff') as DiffOptions,
    dump: section(settings, 'dump') as DumpOptions,
    unlock: section(settings, 'unlock') as UnlockOptions,
    stats: withFilter(section(settings, 'stats')) as StatsOptions,
    copy: { targets: ((section(settings, 'copy')['targets'] as Array<string | Settings> | undefined) ?? []).map((t) => (typeof t === 'string' ? t : repositoryOf(t))) },
  }
}

/** A duration the schema has checked (`0`, `30s`, `10m`, `500ms`) in ms. */
function durationMs(text: string): number {
  return text.trim() === '0' ? 0 : parseDurationMs(text)
}
