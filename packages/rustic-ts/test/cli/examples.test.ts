import { readdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startS3rver } from '../../../backend-opendal/test/servers.js'
import { run, type RunResult } from '../helpers/restic.js'

/** Every program in examples/, run as a user runs it (`node examples/NAME.mjs`, against the built packages). */
const EXAMPLES = fileURLToPath(new URL('../../../../examples/', import.meta.url))
const example = (name: string, env: Record<string, string | undefined> = {}): Promise<RunResult> =>
  run(process.execPath, [`${EXAMPLES}${name}`], { RUSTIC_PASSWORD: undefined, ...env })

/** What each example must print; a new example without an entry here fails the last test. */
const CHECKS: Record<string, (r: RunResult) => void> = {
  'demo.mjs': (r) => {
    const out = r.stdout.toString()
    expect(out).toMatch(/created repository [0-9a-f]{8} \(version 2\)/)
    expect(out).toMatch(/all \d+ files are identical to the source/)
    expect(out).toMatch(/second backup [0-9a-f]{8} \(parent [0-9a-f]{8}\): \d+ files unmodified, 0 bytes added/)
    expect(out).toContain('[IncorrectPassword]')
  },
  'custom-backend.mjs': (r) => {
    expect(r.stdout.toString()).toMatch(/snapshot [0-9a-f]{8} of .*examples: \d+ files in \d+ stored objects/)
    expect(r.stdout.toString()).toMatch(/read custom-backend\.mjs back from the snapshot: [1-9]\d* bytes/)
  },
  'custom-source.mjs': (r) => {
    const out = r.stdout.toString()
    expect(out).toMatch(/snapshot [0-9a-f]{8} of \/backup\/app: 3 files/)
    expect(out).toContain('/backup/app/config/settings.json (14 bytes)')
    expect(out).toContain('orders.sql reads back identical to the dump')
  },
  'serve-file.mjs': (r) => expect(r.stdout.toString()).toMatch(/-> 200, \d+ bytes of serve-file\.mjs: identical to the file/),
  'progress-abort.mjs': (r) => {
    const out = r.stdout.toString()
    expect(out).toMatch(/backing up: 16\.0 MiB of 16\.0 MiB \(100%\)/)
    expect(out).toMatch(/second backup: Aborted .*snapshots tagged cancelled: 0/)
    expect(out).toMatch(/snapshot [0-9a-f]{8} saved: 4 new files/)
  },
  'hot-cold.mjs': (r) => {
    const out = r.stdout.toString()
    expect(out).toMatch(/in hot 1 \(tree packs only\)/)
    expect(out).toMatch(/snapshots listed from hot: 1; packs warmed up so far: 0/)
    const m = /reading (\d+) packs; packs warmed up: (\d+)/.exec(out)
    expect(m && m[1] === m[2] && Number(m[1]) > 0, out).toBe(true)
  },
  'forget.mjs': (r) => {
    const out = r.stdout.toString()
    expect(out).toContain('remove 31 of 42 snapshots')
    expect(out).toContain('forgot 31 snapshots; 11 left')
    expect(out).toMatch(/keep {3}[0-9a-f]{8} 2024-02-11 {2}daily snapshot/)
  },
  'prune.mjs': (r) => {
    const out = r.stdout.toString()
    expect(out).toMatch(/^plan: keep \d+ packs, mark [1-9]\d* for deletion \(4\.\d MiB\), delete 0/m)
    expect(out).toMatch(/^prune: marked [1-9]\d* packs, removed 0$/m)
    expect(out).toMatch(/^plan a day later: .* mark 0 for deletion .* delete [1-9]/m)
    expect(out).toMatch(/^prune a day later: removed [1-9]\d* packs \(4\.\d MiB\)$/m)
    expect(out).toMatch(/^check --read-data: 0 errors$/m)
  },
  'check.mjs': (r) => {
    const out = r.stdout.toString()
    expect(out).toMatch(/^check: ok /m)
    expect(out).toMatch(/^check --read-data: ok /m)
    expect(out).toMatch(/^check after damage: ok /m)
    expect(out).toMatch(/^check --read-data after damage: ERRORS/m)
    expect(out).toMatch(/error: packHashMismatch/)
  },
}

describe('examples', () => {
  let s3: Awaited<ReturnType<typeof startS3rver>>
  beforeAll(async () => {
    s3 = await startS3rver(['examples'])
  })
  afterAll(async () => s3?.stop())

  for (const [name, check] of Object.entries(CHECKS)) {
    it(`node examples/${name}`, async () => {
      const r = await example(name)
      expect(r.code, `${r.stdout.toString()}\n${r.stderr}`).toBe(0)
      check(r)
    })
  }

  it('node examples/s3-opendal.mjs backs up to S3 (s3rver) twice: creating the repository, then opening it', async () => {
    const env = {
      S3_ENDPOINT: `http://127.0.0.1:${s3.port}`,
      S3_BUCKET: 'examples',
      AWS_ACCESS_KEY_ID: 'S3RVER',
      AWS_SECRET_ACCESS_KEY: 'S3RVER',
      RUSTIC_PASSWORD: 'example password',
    }
    const first = await example('s3-opendal.mjs', env)
    expect(first.code, first.stderr).toBe(0)
    expect(first.stdout.toString()).toMatch(/created repository [0-9a-f]{8} at opendal:s3/)
    expect(first.stdout.toString()).toMatch(/snapshot [0-9a-f]{8} at opendal:s3.*: \d+ files/)
    const second = await example('s3-opendal.mjs', env)
    expect(second.code, second.stderr).toBe(0)
    expect(second.stdout.toString()).not.toContain('created repository')
    expect(second.stdout.toString()).toContain('2 snapshots tagged s3-example')
    expect(`${first.stdout}${first.stderr}${second.stdout}${second.stderr}`).not.toContain('S3RVER')
  })

  it('every example in examples/ is run by this suite', () => {
    const files = readdirSync(EXAMPLES).filter((f) => f.endsWith('.mjs'))
    expect(files.sort()).toEqual([...Object.keys(CHECKS), 's3-opendal.mjs'].sort())
  })
})
