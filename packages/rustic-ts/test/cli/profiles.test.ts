import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { PASSWORD, restic, rustic, rusticOk, tempDir, type Env } from '../helpers/restic.js'

interface Snap {
  id: string
  hostname: string
  label?: string
  tags?: string[]
  paths: string[]
}

let tmp: Awaited<ReturnType<typeof tempDir>>
let repo: string
let env: Env

/** The profile `test`: a repository, two sources and a forget policy. */
function testProfile(): string {
  return `# the profile of the CLI acceptance test
[repository]
repository = "${repo}"
password = "${PASSWORD}"
no-cache = true

[global]
no-progress = true

[backup]
host = "profile-host"
tags = ["profile"]

[[backup.snapshots]]
sources = ["${join(tmp.path, 'data', 'a')}"]
label = "first"
tags = ["profile", "a"]

[[backup.snapshots]]
sources = ["${join(tmp.path, 'data', 'b')}"]
label = "second"

[forget]
keep-last = 1
group-by = "host,label"
`
}

beforeAll(async () => {
  tmp = await tempDir('rustic-ts-profilecli-')
  repo = join(tmp.path, 'repo')
  for (const d of ['a', 'b']) {
    await mkdir(join(tmp.path, 'data', d), { recursive: true })
    await writeFile(join(tmp.path, 'data', d, `${d}.txt`), `file ${d}\n`)
  }
  await mkdir(join(tmp.path, 'config', 'rustic-ts'), { recursive: true })
  await writeFile(join(tmp.path, 'config', 'rustic-ts', 'test.toml'), testProfile())
  // the profile gives the password: no RUSTIC_PASSWORD; nothing read from the user's own config
  env = { XDG_CONFIG_HOME: join(tmp.path, 'config'), RUSTIC_PASSWORD: undefined, RUSTIC_REPOSITORY: undefined }
}, 60_000)
afterAll(async () => tmp?.remove())

const snapshots = async (): Promise<Snap[]> => JSON.parse((await restic(repo, ['snapshots', '--json'])).toString()) as Snap[]

describe('profiles on the command line', () => {
  it('-P test: init, backup of every [[backup.snapshots]] entry, forget by the profile exactly as the explicit command line; restic check accepts the repository', async () => {
    await rusticOk(['-P', 'test', 'init'], env)
    await rusticOk(['-P', 'test', 'backup'], env)
    // labels are rustic's: restic 0.14 does not print them
    const first = JSON.parse((await rusticOk(['-P', 'test', 'snapshots', '--json'], env)).toString()) as Snap[]
    expect(first.map((s) => [s.hostname, s.label, s.tags, s.paths]).sort((x, y) => String(x[1]).localeCompare(String(y[1])))).toEqual([
      ['profile-host', 'first', ['profile', 'a'], [join(tmp.path, 'data', 'a')]],
      ['profile-host', 'second', ['profile'], [join(tmp.path, 'data', 'b')]],
    ])
    await rusticOk(['-P', 'test', 'backup', '--json'], env) // a second snapshot of each
    expect(await snapshots()).toHaveLength(4)

    const fromProfile = await rusticOk(['-P', 'test', 'forget', '--dry-run', '--json'], env)
    const explicit = await rusticOk(['-r', repo, '--no-cache', 'forget', '--keep-last', '1', '--group-by', 'host,label', '--dry-run', '--json'], {
      ...env,
      RUSTIC_PASSWORD: PASSWORD,
    })
    expect(fromProfile.toString()).toBe(explicit.toString())
    const groups = JSON.parse(fromProfile.toString()) as Array<{ keep: Snap[]; remove: Snap[] }>
    expect(groups.map((g) => [g.keep.length, g.remove.length])).toEqual([
      [1, 1],
      [1, 1],
    ])
    // a flag on the command line wins over the profile's value
    const keepTwo = JSON.parse((await rusticOk(['-P', 'test', 'forget', '--keep-last', '2', '--dry-run', '--json'], env)).toString()) as Array<{ remove: Snap[] | null }>
    expect(keepTwo.map((g) => g.remove)).toEqual([null, null])

    await rusticOk(['-P', 'test', 'forget'], env)
    expect(await snapshots()).toHaveLength(2)
    await restic(repo, ['check', '--read-data'])
  })

  it('the environment wins over the profile, and a flag over the environment', async () => {
    const elsewhere = join(tmp.path, 'no-repo-here')
    const r = await rustic(['-P', 'test', 'snapshots'], { ...env, RUSTIC_REPOSITORY: elsewhere })
    expect(r.code).toBe(1)
    expect(r.stderr).toContain(elsewhere)
    await rusticOk(['-P', 'test', '-r', repo, 'snapshots'], { ...env, RUSTIC_REPOSITORY: elsewhere })
    const wrong = await rustic(['-P', 'test', 'snapshots'], { ...env, RUSTIC_PASSWORD: 'not-the-password' })
    expect(wrong.code).toBe(1)
    expect(wrong.stderr).toMatch(/password/i)
  })

  it('a profile with a stdin-command entry: the line before each backup names what it reads, not the command line', async () => {
    const file = join(tmp.path, 'config', 'rustic-ts', 'stdin.toml')
    const stdinRepo = join(tmp.path, 'repo-stdin')
    await writeFile(
      file,
      `[repository]\nrepository = "${stdinRepo}"\npassword = "${PASSWORD}"\nno-cache = true\n\n[global]\nno-progress = true\n\n` +
        `[[backup.snapshots]]\nsources = ["${join(tmp.path, 'data', 'a')}"]\n\n` +
        `[[backup.snapshots]]\nname = "greeting"\nstdin-command = "echo secret-token-123"\nstdin-filename = "greeting.txt"\n`,
    )
    await rusticOk(['-P', 'stdin', 'init'], env)
    const out = (await rusticOk(['-P', 'stdin', 'backup'], env)).toString()
    expect(out).toContain(`backing up ${join(tmp.path, 'data', 'a')}\n`)
    expect(out).toContain('backing up the output of the stdin-command of "greeting" as greeting.txt\n')
    expect(out).not.toContain('secret-token-123')
  })

  it('a misspelt key fails with one line naming the key, the file and the line', async () => {
    const file = join(tmp.path, 'config', 'rustic-ts', 'typo.toml')
    await writeFile(file, `[global]\nno-progress = true\n\n[repository]\nrepositori = "x"\n`)
    const r = await rustic(['-P', 'typo', 'snapshots'], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`rustic-ts: error: ${file}:5: unknown key "repositori" in [repository]: did you mean "repository"?\n`)
  })

  it('show-config prints the merged configuration with the password masked', async () => {
    await writeFile(join(tmp.path, 'config', 'rustic-ts', 'extra.toml'), `[repository.options]\nretries = "2"\nsecret_access_key = "hidden"\n`)
    const out = (await rusticOk(['-P', 'test', '-P', 'extra', 'show-config'], env)).toString()
    expect(out).toContain(`# from ${join(tmp.path, 'config', 'rustic-ts', 'test.toml')}\n# from ${join(tmp.path, 'config', 'rustic-ts', 'extra.toml')}\n`)
    expect(out).toContain(`repository = "${repo}"`)
    expect(out).toContain('password = "***"')
    expect(out).toContain('secret_access_key = "***"')
    expect(out).toContain('keep-last = 1')
    expect(out).not.toContain(PASSWORD)
    expect(out).not.toContain('hidden')
  })
})

describe('profile sections of copy, prune and check', () => {
  let src: string
  const targetRepo = (n: number): string => join(tmp.path, `target${n}`)
  const srcSnapshots = async (): Promise<Snap[]> => JSON.parse((await rusticOk(['-P', 'src', 'snapshots', '--json'], env)).toString()) as Snap[]

  beforeAll(async () => {
    src = join(tmp.path, 'src')
    const dir = join(tmp.path, 'config', 'rustic-ts')
    // the source: copy targets as a profile name and as a table (rustic's two forms), a prune and a check policy
    await writeFile(
      join(dir, 'src.toml'),
      `[repository]
repository = "${src}"
password = "${PASSWORD}"
no-cache = true

[global]
no-progress = true

[copy]
targets = ["target1", { repository = "${targetRepo(2)}", password = "second-password", no-cache = true }]

[forget]
keep-last = 1
group-by = "host"
prune = true

[prune]
max-unused = "17%"
instant-delete = true

[check]
read-data = true

[stats]
mode = "raw-data"
`,
    )
    await writeFile(join(dir, 'target1.toml'), `[repository]\nrepository = "${targetRepo(1)}"\npassword = "first-password"\nno-cache = true\n`)
    await rusticOk(['-P', 'src', 'init'], env)
    await rusticOk(['-P', 'target1', 'init'], env)
    await rusticOk(['-r', targetRepo(2), '--no-cache', 'init'], { ...env, RUSTIC_PASSWORD: 'second-password' })
    await rusticOk(['-P', 'src', 'backup', join(tmp.path, 'data', 'a')], env)
    await rusticOk(['-P', 'src', 'backup', join(tmp.path, 'data', 'b')], env)
  }, 60_000)

  it("copy without --from-repo copies into each of the profile's [copy] targets (--target instead, --init); restic reads the copies", async () => {
    const dry = (await rusticOk(['-P', 'src', 'copy', '--dry-run'], env)).toString()
    expect(dry).toContain('copying to target target1:\n')
    expect(dry).toContain(`copying to target ${targetRepo(2)}:\n`)
    expect(dry.match(/: would be copied\n/g)).toHaveLength(4)

    const lines = (await rusticOk(['-P', 'src', 'copy', '--json'], env)).toString().trim().split('\n')
    const results = lines.map((l) => JSON.parse(l) as { target: string; copied: unknown[]; skipped: unknown[] })
    expect(results.map((r) => [r.target, r.copied.length, r.skipped.length])).toEqual([
      ['target1', 2, 0], // nothing was copied by the dry run
      [targetRepo(2), 2, 0],
    ])
    const trees = (snaps: Array<Snap & { tree?: string }>): string[] => snaps.map((s) => s.tree!).sort()
    const source = trees(await srcSnapshots())
    for (const [n, password] of [[1, 'first-password'], [2, 'second-password']] as const) {
      const copies = JSON.parse((await restic(targetRepo(n), ['snapshots', '--json'], { RESTIC_PASSWORD: password })).toString()) as Snap[]
      expect(trees(copies)).toEqual(source)
    }
    await restic(targetRepo(2), ['check', '--read-data'], { RESTIC_PASSWORD: 'second-password' })

    // --target names the targets instead; one that fails does not stop the others, and the command fails
    const r = await rustic(['-P', 'src', 'copy', '--target', 'target1', '--target', 'missing'], env)
    expect(r.code).toBe(1)
    expect(r.stdout.toString()).toContain('copied 0 snapshot(s), skipped 2')
    expect(r.stderr).toContain('rustic-ts: error: copy target missing: profile "missing" not found')
    expect(r.stderr).toContain('copying into 1 of 2 target(s) failed: missing')

    // --init creates a target that does not exist, with the source's chunker (so the copies deduplicate alike)
    await writeFile(join(tmp.path, 'config', 'rustic-ts', 'target3.toml'), `[repository]\nrepository = "${targetRepo(3)}"\npassword = "third"\nno-cache = true\n`)
    const created = (await rusticOk(['-P', 'src', 'copy', '--target', 'target3', '--init'], env)).toString()
    expect(created).toContain('creating the repository of target target3\n')
    expect(created).toContain('copied 2 snapshot(s), skipped 0')
    const config = async (profile: string): Promise<{ chunker_polynomial: string; id: string }> =>
      JSON.parse((await rusticOk(['-P', profile, 'cat', 'config'], env)).toString()) as { chunker_polynomial: string; id: string }
    const [srcConfig, newConfig] = [await config('src'), await config('target3')]
    expect(newConfig.chunker_polynomial).toBe(srcConfig.chunker_polynomial)
    expect(newConfig.id).not.toBe(srcConfig.id)
    expect(trees(JSON.parse((await rusticOk(['-P', 'target3', 'snapshots', '--json'], env)).toString()) as Snap[])).toEqual(source)
  })

  it('prune takes [prune] (a flag wins; --dry-run shows the options); forget with prune = true prunes with them', async () => {
    type PruneJson = { plan: { options: { maxUnused: unknown; instantDelete: boolean; ignoreSnapshots: string[] } }; result: { dryRun: boolean } }
    const planned = JSON.parse((await rusticOk(['-P', 'src', 'prune', '--dry-run', '--json'], env)).toString()) as PruneJson
    expect(planned.plan.options).toMatchObject({ maxUnused: { kind: 'percent', percent: 17 }, instantDelete: true })
    expect(planned.result.dryRun).toBe(true)
    const flag = JSON.parse((await rusticOk(['-P', 'src', 'prune', '--dry-run', '--json', '--max-unused', '3%'], env)).toString()) as PruneJson
    expect(flag.plan.options.maxUnused).toEqual({ kind: 'percent', percent: 3 })

    // forget --dry-run shows what the profile's prune would do after forgetting
    const [groups, prune] = (await rusticOk(['-P', 'src', 'forget', '--dry-run', '--json'], env)).toString().trim().split('\n')
    expect((JSON.parse(groups!) as Array<{ remove: Snap[] }>)[0]!.remove).toHaveLength(1)
    const forgetPrune = JSON.parse(prune!) as PruneJson
    expect(forgetPrune.plan.options).toMatchObject({ maxUnused: { kind: 'percent', percent: 17 }, instantDelete: true })
    expect(forgetPrune.plan.options.ignoreSnapshots).toHaveLength(1)

    const out = (await rusticOk(['-P', 'src', 'forget'], env)).toString()
    expect(out).toContain('removed 1 snapshot(s)')
    expect(out).toMatch(/removed [1-9]\d* packs/) // instant-delete from [prune]: b's data is gone at once
    expect(await srcSnapshots()).toHaveLength(1)
    await restic(src, ['check', '--read-data'])
  })

  it('check takes [check] (read-data from the profile reads every pack, a profile without it none), stats [stats]', async () => {
    type CheckJson = { packs: number; packsRead: number; summary: { errors: number } }
    const withProfile = JSON.parse((await rusticOk(['-P', 'src', 'check', '--json'], env)).toString()) as CheckJson
    expect(withProfile.packs).toBeGreaterThan(0)
    expect(withProfile.packsRead).toBe(withProfile.packs)
    const without = JSON.parse((await rusticOk(['-P', 'target1', 'check', '--json'], env)).toString()) as CheckJson
    expect([without.packsRead, without.summary.errors]).toEqual([0, 0])
    // [stats] likewise; the flag wins
    expect((await rusticOk(['-P', 'src', 'stats'], env)).toString()).toContain('Stats in raw-data mode:')
    expect((await rusticOk(['-P', 'src', 'stats', '--mode', 'restore-size'], env)).toString()).toContain('Stats in restore-size mode:')
  })

  it('a misspelt key of [prune] fails with one line naming the key, the file and the line', async () => {
    const file = join(tmp.path, 'config', 'rustic-ts', 'prunetypo.toml')
    await writeFile(file, `[prune]\nmax-unsued = "5%"\n`)
    const r = await rustic(['-P', 'prunetypo', 'prune'], env)
    expect(r.code).toBe(1)
    expect(r.stderr).toBe(`rustic-ts: error: ${file}:2: unknown key "max-unsued" in [prune]: did you mean "max-unused"?\n`)
  })
})
