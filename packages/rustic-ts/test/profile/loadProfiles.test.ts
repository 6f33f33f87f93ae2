import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  BackupOptionsSchema,
  CheckOptionsSchema,
  ForgetOptionsSchema,
  GroupSnapshotsOptionsSchema,
  isRusticError,
  parseOptions,
  PruneOptionsSchema,
  RepositoryOptionsSchema,
  RestoreOptionsSchema,
} from '@rustic-ts/core'
import { loadProfiles, profileDirs } from '../../src/profile/loadProfiles.js'
import { backendsFromOptions, loadBackendClasses } from '../../src/backendsFromOptions.js'

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url))
const DOCS = fileURLToPath(new URL('../../../../docs/profiles.md', import.meta.url))

let dir: string
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'rustic-ts-profiles-'))
})
afterAll(async () => rm(dir, { recursive: true, force: true }))

/** Writes profiles NAME.toml into the test directory. */
async function profiles(files: Record<string, string>): Promise<void> {
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, `${name}.toml`), text)
}

const load = (names: string[], env?: Record<string, string>) => loadProfiles(names, { dirs: [dir], ...(env && { env }) })

/** The error `p` rejects with (fails if it resolves). */
async function failure(p: Promise<unknown>): Promise<Error> {
  try {
    await p
  } catch (e) {
    return e as Error
  }
  throw new Error('expected a failure')
}

describe('loadProfiles: merging', () => {
  it('later profiles win key by key; tables merge, arrays and values are replaced; the password is one setting', async () => {
    await profiles({
      m1: `[repository]\nrepository = "/r1"\npassword = "one"\ncache-dir = "/c1"\n[repository.options]\ntimeout = "1m"\nretries = "3"\n[backup]\ntags = ["a", "b"]\nlabel = "l1"\nhost = "h1"\n`,
      m2: `[repository]\nrepository = "/r2"\npassword-file = "/pw"\n[repository.options]\ntimeout = "2m"\n[backup]\ntags = ["c"]\nlabel = "l2"\n`,
    })
    const p = await load(['m1', 'm2'])
    expect(p.files).toEqual([join(dir, 'm1.toml'), join(dir, 'm2.toml')])
    expect(p.repository.backend).toEqual({ repository: '/r2', options: { timeout: '2m', retries: '3' } })
    expect(p.repository.credentials).toEqual({ passwordFile: '/pw' })
    expect(p.repository.options).toEqual({ cacheDir: '/c1' })
    expect(p.backup.options).toEqual({ tags: ['c'], label: 'l2', host: 'h1' })
    const reversed = await load(['m2', 'm1'])
    expect(reversed.repository.backend?.repository).toBe('/r1')
    expect(reversed.repository.credentials).toEqual({ password: 'one' })
    expect(reversed.backup.options.tags).toEqual(['a', 'b'])
  })

  it('use-profiles chains: used profiles are merged first, recursively, and the one using them wins', async () => {
    await profiles({
      c1: `[forget]\nkeep-daily = 1\nkeep-weekly = 1\nkeep-monthly = 1\n`,
      c2: `[global]\nuse-profiles = ["c1"]\n[forget]\nkeep-weekly = 2\nkeep-monthly = 2\n`,
      c3: `[global]\nuse-profiles = ["c2"]\ndry-run = true\n[forget]\nkeep-monthly = 3\n`,
    })
    const p = await load(['c3'])
    expect(p.files).toEqual(['c1', 'c2', 'c3'].map((n) => join(dir, `${n}.toml`)))
    expect(p.forget).toEqual({ keepDaily: 1, keepWeekly: 2, keepMonthly: 3 })
    expect(p.global).toEqual({ dryRun: true, env: {} })
    expect(p.settings['global']).toEqual({ dryRun: true }) // use-profiles is consumed, not kept
  })

  it('a cycle in use-profiles is an error naming the file, the line and the chain, not a hang', async () => {
    await profiles({
      y1: `[global]\nuse-profiles = ["y2"]\n`,
      y2: `# two\n[global]\nuse-profiles = [\n  "y1",\n]\n`,
      self: `[global]\nuse-profiles = ["self"]\n`,
    })
    const e = await failure(load(['y1']))
    expect(isRusticError(e, 'ProfileCycle')).toBe(true)
    expect(e.message).toBe(`${join(dir, 'y2.toml')}:4: use-profiles "y1" makes a cycle: ${['y1', 'y2', 'y1'].map((n) => join(dir, `${n}.toml`)).join(' -> ')}`)
    expect(isRusticError(await failure(load(['self'])), 'ProfileCycle')).toBe(true)
    // the same profile used twice without a cycle is fine
    await profiles({ d1: `[forget]\nkeep-last = 1\n`, d2: `[global]\nuse-profiles = ["d1", "d1"]\n` })
    expect((await load(['d2', 'd1'])).forget).toEqual({ keepLast: 1 })
  })

  it('[[backup.snapshots]] of all profiles are kept; an entry with the same name and sources replaces the weaker one', async () => {
    await profiles({
      s1: `[[backup.snapshots]]\nsources = ["/a"]\nlabel = "old"\n[[backup.snapshots]]\nsources = ["/b"]\n`,
      s2: `[backup]\nhost = "h"\nexcludes = ["*.o"]\n[[backup.snapshots]]\nsources = ["/a"]\nlabel = "new"\n[[backup.snapshots]]\nname = "c"\nsources = ["/c"]\nhost = "other"\n`,
    })
    const p = await load(['s1', 's2'])
    expect(p.backup.snapshots.map((e) => [e.name, e.sources, e.options])).toEqual([
      [undefined, ['/a'], { host: 'h', label: 'new', local: { excludes: ['*.o'] } }],
      [undefined, ['/b'], { host: 'h', local: { excludes: ['*.o'] } }],
      ['c', ['/c'], { host: 'other', local: { excludes: ['*.o'] } }],
    ])
  })

  it('without names the default profile rustic is read if it exists; a named profile must exist', async () => {
    expect((await load([])).files).toEqual([])
    await profiles({ rustic: `[repository]\nrepository = "/default"\n` })
    expect((await load([])).repository.backend?.repository).toBe('/default')
    const e = await failure(load(['missing']))
    expect(isRusticError(e, 'ProfileNotFound')).toBe(true)
    expect(e.message).toContain(join(dir, 'missing.toml'))
    await profiles({ usesmissing: `[global]\nuse-profiles = ["nothere"]\n` })
    expect((await failure(load(['usesmissing']))).message).toMatch(/usesmissing\.toml:2: profile "nothere" not found/)
    // an absolute path is read as it is
    expect((await loadProfiles([join(dir, 'rustic.toml')], { dirs: [] })).files).toEqual([join(dir, 'rustic.toml')])
  })

  it('profiles are searched in $XDG_CONFIG_HOME/rustic-ts, /etc/rustic-ts and the current directory', () => {
    expect(profileDirs({ XDG_CONFIG_HOME: '/x/config' })).toEqual(['/x/config/rustic-ts', '/etc/rustic-ts', process.cwd()])
    expect(profileDirs({})[0]).toMatch(/\/\.config\/rustic-ts$/)
  })
})

describe('loadProfiles: environment overrides', () => {
  it('RUSTIC_* variables win over every profile', async () => {
    await profiles({ e1: `[repository]\nrepository = "/r"\npassword-file = "/pw"\nno-cache = false\n[repository.options]\ntimeout = "1m"\n[global]\ndry-run = false\n` })
    const p = await load(['e1'], {
      RUSTIC_REPOSITORY: '/from-env',
      RUSTIC_PASSWORD: 'env-password',
      RUSTIC_NO_CACHE: 'true',
      RUSTIC_REPO_OPT_TIMEOUT: '5m',
      RUSTIC_REPO_OPT_RETRY_TIMEOUT: '10m',
      RUSTIC_REPO_OPTHOT_CONNECTIONS: '2',
      RUSTIC_DRY_RUN: '1',
      UNRELATED: 'x',
    })
    expect(p.repository.backend).toEqual({ repository: '/from-env', options: { timeout: '5m', 'retry-timeout': '10m' }, optionsHot: { connections: '2' } })
    expect(p.repository.credentials).toEqual({ password: 'env-password' })
    expect(p.repository.options.noCache).toBe(true)
    expect(p.global.dryRun).toBe(true)
    // RUSTIC_PASSWORD wins over RUSTIC_PASSWORD_FILE, which wins over the profile
    expect((await load(['e1'], { RUSTIC_PASSWORD_FILE: '/env-pw' })).repository.credentials).toEqual({ passwordFile: '/env-pw' })
    expect((await load(['e1'], { RUSTIC_PASSWORD_FILE: '/env-pw', RUSTIC_PASSWORD: 'p' })).repository.credentials).toEqual({ password: 'p' })
    // without options.env the environment is not read
    expect((await load(['e1'])).repository.backend?.repository).toBe('/r')
    const e = await failure(load(['e1'], { RUSTIC_NO_CACHE: 'maybe' }))
    expect(e.message).toBe('invalid RUSTIC_NO_CACHE="maybe": expected true or false')
  })
})

describe('loadProfiles: errors name the key, the file and the line', () => {
  const cases: Array<[string, string, string]> = [
    ['misspelt key', `# my profile\n[repository]\nrepositori = "x"\n`, ':3: unknown key "repositori" in [repository]: did you mean "repository"?'],
    ['wrong type', `[forget]\nkeep-last = 2\n\nkeep-daily = "seven"\n`, ':4: invalid value of "forget.keep-daily": expected number, received string'],
    ['wrong type in an array', `[backup]\ntags = [\n  "a",\n  3,\n]\n`, ':4: invalid value of "backup.tags[1]": expected string, received number'],
    ['unknown key in the second entry', `[[backup.snapshots]]\nsources = ["/a"]\n\n[[backup.snapshots]]\nsources = ["/b"]\nlabl = "x"\n`, ':6: unknown key "labl" in [[backup.snapshots]]: did you mean "label"?'],
    ['entry without sources', `[[backup.snapshots]]\nlabel = "x"\n`, ':1: [[backup.snapshots]] needs "sources" or "stdin-command"'],
    ['key in an inline table', `[[copy.targets]]\nrepository = "/a"\n[[copy.targets]]\nrepository = "/b"\nwarm-up = "yes"\n`, ':5: invalid value of "copy.targets[1].warm-up": expected boolean, received string'],
    ['unknown section', `[forgett]\nkeep-last = 1\n`, ':1: unknown section "forgett": did you mean "forget"?'],
    ['backend option not a string', `[repository.options]\nretries = 3\n`, ':2: invalid value of "repository.options.retries": expected a string (write retries = "3")'],
    ['bad duration', `[repository]\nwarm-up-wait = "soon"\n`, ':2: invalid value of "repository.warm-up-wait": invalid backend option duration="soon"'],
    ['snake case key', `[forget]\nkeep_daily = 3\n`, ':2: unknown key "keep_daily" in [forget]: did you mean "keep-daily"?'],
    ['misspelt prune key', `[prune]\nmax-unusd = "5%"\n`, ':2: unknown key "max-unusd" in [prune]: did you mean "max-unused"?'],
    ['prune key in [forget]', `[forget]\nkeep-last = 1\nmax-unused = "5%"\n`, ':3: unknown key "max-unused" in [forget]: prune options go in [prune], which forget\'s prune = true uses too'],
    ['bad size limit', `[prune]\nmax-repack = "lots"\n`, ':2: invalid value of "prune.max-repack": invalid size limit "lots": expected a percentage (5%), a size (10M, 2GiB, 500) or "unlimited"'],
    ['prune not a boolean', `[forget]\nprune = "yes"\n`, ':2: invalid value of "forget.prune": expected boolean, received string'],
    ['copy target misspelt', `[copy]\ntarget = ["offsite"]\n`, ':2: unknown key "target" in [copy]: did you mean "targets"?'],
    ['copy target not a name or table', `[copy]\ntargets = ["a", 3]\n`, ':2: invalid value of "copy.targets[1]": expected a profile name or a table'],
    ['bad stats mode', `[stats]\nmode = "fast"\n`, ':2: invalid value of "stats.mode": '],
    ['misspelt check key', `[check]\nread-dat = true\n`, ':2: unknown key "read-dat" in [check]: did you mean "read-data"?'],
    ['TOML syntax error', `[forget]\nkeep-daily = 3\nkeep-weekly = \n`, ':3:15: invalid TOML:'],
    ['a key after a multi-line string', `[backup]\ndescription = """\n[fake]\nkey = 1\n"""\nlable = "x"\n`, ':6: unknown key "lable" in [backup]: did you mean "label"?'],
  ]
  for (const [what, text, message] of cases) {
    it(what, async () => {
      const name = `err-${what.replaceAll(' ', '-')}`
      await profiles({ [name]: text })
      const e = await failure(load([name]))
      expect(isRusticError(e, 'InvalidProfile')).toBe(true)
      expect(e.message.split('\n')).toHaveLength(1)
      expect(e.message.startsWith(`${join(dir, `${name}.toml`)}${message}`), e.message).toBe(true)
    })
  }

  it('sections for commands rustic-ts does not have are read past with a warning', async () => {
    await profiles({ webdav: `[repository]\nrepository = "/r"\n\n[webdav]\naddress = "localhost:8000"\n[mount]\nmount-point = "/mnt"\n` })
    const p = await load(['webdav'])
    expect(p.warnings).toEqual([
      `${join(dir, 'webdav.toml')}:4: [webdav] is for a command rustic-ts does not have: ignored`,
      `${join(dir, 'webdav.toml')}:6: [mount] is for a command rustic-ts does not have: ignored`,
    ])
    expect(p.settings).toEqual({ repository: { repository: '/r' } })
  })
})

describe('loadProfiles: rustic example profiles and the docs example', () => {
  const fixture = (name: string) => loadProfiles([name], { dirs: [FIXTURES] })

  it('simple, rustic, local, par2, b2', async () => {
    const simple = await fixture('simple')
    expect(simple.repository).toEqual({ backend: { repository: '/srv/backups/simple' }, credentials: { password: 'simple-example' }, options: {} })

    const rustic = await fixture('rustic')
    expect(rustic.snapshotFilter).toEqual({ hosts: ['workstation'] })
    expect(rustic.forget).toEqual({
      filter: { hosts: ['workstation', 'laptop'] },
      keepTags: ['pinned'],
      keepWithinDaily: '10 days',
      keepMonthly: 6,
      keepYearly: 3,
    })
    expect(rustic.backup.snapshots.map((e) => [e.sources, e.options])).toEqual([
      [['/srv/data'], {}],
      [['/home'], { local: { excludes: ['/home/*/Downloads/*'] } }],
    ])

    const local = await fixture('local')
    expect(local.repository.options).toEqual({ noCache: true })
    expect(local.repository.credentials).toEqual({ passwordFile: '/root/backup-password' })
    expect(local.backup.snapshots.map((e) => e.sources)).toEqual([['/home'], ['/etc'], ['/root']])
    expect(local.backup.snapshots[2]!.options).toEqual({
      local: { excludeIfPresent: ['.nobackup', 'CACHEDIR.TAG'], excludeFiles: ['/root/backup-excludes.txt'], oneFileSystem: true },
    })

    const par2 = await fixture('par2')
    expect(par2.repository.backend?.options).toEqual({
      'post-create-command': 'par2create -qq -n1 -r10 %file',
      'post-delete-command': 'sh -c "rm -f %file*.par2"',
    })
    // the backend options are the ones backendsFromOptions takes
    await loadBackendClasses([dir])
    expect(() => backendsFromOptions({ ...par2.repository.backend!, repository: join(dir, 'par2-repo') })).not.toThrow()

    const b2 = await fixture('b2')
    expect(b2.repository.backend).toEqual({
      repository: 'opendal:b2',
      options: { application_key_id: 'key-id', application_key: 'key-secret', bucket: 'my-bucket', bucket_id: 'bucket-id' },
    })
  })

  it('hot-cold, stdin-command and both forms of copy targets', async () => {
    const hotCold = await fixture('hot-cold')
    expect(hotCold.repository).toEqual({
      backend: { repository: 'rclone:cloud:archive-cold', repoHot: 'rclone:cloud:archive-hot', optionsCold: { timeout: '10m' } },
      credentials: { passwordFile: '/root/archive-password' },
      options: { cacheDir: '/var/cache/rustic-ts', warmUp: true, warmUpWaitMs: 15 * 60_000 },
    })
    expect(parseOptions(RepositoryOptionsSchema, hotCold.repository.options, 'repository options').warmUpWaitMs).toBe(900_000)

    const stdin = await fixture('stdin-command')
    expect(stdin.backup.snapshots).toMatchObject([{ name: 'greeting', sources: ['-'], stdinCommand: 'echo hello', stdinFilename: 'greeting.txt', options: {} }])

    // rustic's current form: targets are profiles, whose [repository] is the target repository
    const copyExample = await fixture('copy_example')
    expect(copyExample.copy.targets).toEqual(['full', 'rustic'])
    const targets = await Promise.all(copyExample.copy.targets.map((t) => fixture(t as string)))
    expect(targets.map((t) => [t.repository.backend?.repository, t.repository.credentials])).toEqual([
      ['/repo/rustic', { password: 'mySecretPassword' }],
      ['/srv/backups/daily', { password: 'daily-example' }],
    ])
    // forget's prune = true carries [prune]'s options into ForgetOptions
    expect(copyExample.forget).toEqual({ keepLast: 10, prune: { maxUnused: '0%' } })
    expect(copyExample.prune).toEqual({ maxUnused: '0%' })
    expect(parseOptions(ForgetOptionsSchema, copyExample.forget, 'forget options').prune).toEqual({ maxUnused: '0%' })
    expect((await fixture('copy_targets')).copy.targets).toEqual([
      { backend: { repository: '/srv/backups/second' }, credentials: { password: 'copy-example' }, options: { noCache: true } },
      {
        backend: { repository: 'rclone:remote:offsite', repoHot: 'rclone:remote:offsite-hot' },
        credentials: { passwordFile: '/root/offsite-password' },
        options: { cacheDir: '/var/cache/rustic-ts' },
      },
    ])
  })

  it('full: every key rustic-ts shares with rustic; [webdav] and [mount] read past; each section valid for its command', async () => {
    const full = await fixture('full')
    expect(full.warnings.map((w) => w.replace(/^.*full\.toml:\d+: /, ''))).toEqual([
      '[webdav] is for a command rustic-ts does not have: ignored',
      '[mount] is for a command rustic-ts does not have: ignored',
    ])
    expect(full.copy.targets).toEqual(['simple', 'rustic'])
    expect(full.backup.snapshots.map((e) => e.sources)).toEqual([['/path/to/source1'], ['/path/to/source2', '/second/path']])
    expect(full.repository.options).toMatchObject({ warmUpWaitMs: 600_000, warmUpBatch: 1, cacheDir: '/my/rustic/cachedir' })
    const prune = parseOptions(PruneOptionsSchema, full.prune, 'prune options')
    expect([prune.maxUnused, prune.maxRepack, prune.keepPack, prune.keepDelete]).toEqual([
      { kind: 'percent', percent: 10 },
      { kind: 'bytes', bytes: 1024 ** 3 },
      86_400_000,
      23 * 3_600_000,
    ])
    const forget = parseOptions(ForgetOptionsSchema, full.forget, 'forget options')
    expect(forget.prune).toEqual(full.prune)
    expect(forget.keepYearly).toBe(10)
    expect(forget.filter.hosts).toEqual(['host1', 'host2'])
    for (const e of full.backup.snapshots) parseOptions(BackupOptionsSchema, e.options, 'backup options')
    parseOptions(RepositoryOptionsSchema, full.repository.options, 'repository options')
  })

  it('[prune] merges key by key; forget\'s prune = true without [prune] is true', async () => {
    await profiles({
      'prune-base': `[prune]\nmax-unused = "20%"\nkeep-pack = "7d"\n\n[forget]\nkeep-last = 3\nprune = true\n`,
      'prune-over': `[prune]\nmax-unused = 0\ninstant-delete = true\n`,
      'prune-none': `[forget]\nkeep-last = 3\nprune = true\n`,
    })
    const p = await load(['prune-base', 'prune-over'])
    expect(p.prune).toEqual({ maxUnused: 0, keepPack: '7d', instantDelete: true })
    expect(p.forget).toEqual({ keepLast: 3, prune: { maxUnused: 0, keepPack: '7d', instantDelete: true } })
    expect((await load(['prune-none'])).forget).toEqual({ keepLast: 3, prune: true })
  })

  it('the complete example of docs/profiles.md loads, and each section is valid for its command', async () => {
    const doc = await readFile(DOCS, 'utf8')
    const example = /## A complete example\n\n```toml\n([\s\S]*?)```/.exec(doc)?.[1]
    expect(example).toBeDefined()
    await profiles({ 'docs-example': example! })
    const p = await load(['docs-example'])
    expect(p.warnings).toEqual([])
    expect(p.repository.backend?.repository).toBe('rest:https://backup.example.org:8000/me/')
    expect(p.repository.options.retryLockMs).toBe(120_000)
    expect(p.global.env).toEqual({ RCLONE_CONFIG: '/home/me/.config/rclone/rclone.conf' })
    expect(p.backup.snapshots.map((e) => e.name)).toEqual(['home', 'etc', 'packages'])
    expect(p.backup.snapshots[2]!.stdinCommand).toBe('dpkg --get-selections')
    expect(p.backup.snapshots[1]!.options.tags).toEqual(['scheduled', 'system'])
    expect(p.forget.filter).toEqual({ hosts: ['laptop'] })
    expect(p.forget.prune).toEqual({ maxUnused: '10%', keepPack: '7d' })
    expect(p.copy.targets).toEqual(['offsite'])
    expect(parseOptions(PruneOptionsSchema, p.prune, 'prune options').keepPack).toBe(7 * 86_400_000)
    // every section parses with its command's own schema
    parseOptions(RepositoryOptionsSchema, p.repository.options, 'repository options')
    for (const e of p.backup.snapshots) parseOptions(BackupOptionsSchema, e.options, 'backup options')
    expect(parseOptions(ForgetOptionsSchema, p.forget, 'forget options').keepWithin).toEqual({ years: 0, months: 0, days: 2, hours: 0, minutes: 0, seconds: 0 })
    expect(parseOptions(RestoreOptionsSchema, p.restore, 'restore options').noOwnership).toBe(true)
    expect(parseOptions(CheckOptionsSchema, p.check, 'check options').readDataSubset).toBe('5%')
    expect(parseOptions(GroupSnapshotsOptionsSchema, p.snapshots, 'snapshots options').groupBy).toEqual({ hostname: true, label: true, paths: false, tags: false })
  })
})
