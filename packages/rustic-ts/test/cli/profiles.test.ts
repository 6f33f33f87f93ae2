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
