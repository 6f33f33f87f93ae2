import { execFile } from 'node:child_process'
import { mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { rustic, rusticOk, tempDir } from '../helpers/restic.js'

const execFileP = promisify(execFile)
const ROOT = fileURLToPath(new URL('../../../..', import.meta.url))
/** Every process of these tests runs with OpenDAL's native binding made unloadable. */
const NO_OPENDAL = { NODE_OPTIONS: `--require ${fileURLToPath(new URL('../fixtures/blockOpendalBinding.cjs', import.meta.url))}` }

/** Runs an ES module snippet with node (from the repository root, where `rustic-ts` resolves to the built package). */
async function nodeEval(code: string, env: Record<string, string> = {}): Promise<{ stdout: string; stderr: string; code: number }> {
  try {
    const r = await execFileP(process.execPath, ['--input-type=module', '-e', code], { cwd: ROOT, env: { ...process.env, ...env } })
    return { ...r, code: 0 }
  } catch (e) {
    const err = e as { stdout: string; stderr: string; code: number }
    return { stdout: err.stdout, stderr: err.stderr, code: err.code }
  }
}

describe('without OpenDAL\'s native binding', () => {
  let dir: { path: string; remove: () => Promise<void> }
  beforeAll(async () => {
    dir = await tempDir('rustic-ts-no-opendal-')
  })
  afterAll(() => dir.remove())

  it('the binding really does not load (the premise of these tests)', async () => {
    const r = await nodeEval("import { createRequire } from 'node:module'; createRequire(import.meta.url)('opendal')", NO_OPENDAL)
    expect(r.code).not.toBe(0)
    expect(r.stderr).toMatch(/native binding/i)
  })

  it("import('rustic-ts') loads without it; making an OpenDalBackend fails with one line naming the package and platform", async () => {
    const r = await nodeEval(
      `const m = await import('rustic-ts')
       const maps = (await import('node:fs')).readFileSync('/proc/self/maps', 'utf8')
       console.log(JSON.stringify({ loaded: typeof m.Repository, mapped: /opendal/.test(maps) }))
       try { new m.OpenDalBackend('fs', { root: '/tmp/x' }); console.log('no error') }
       catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`,
      NO_OPENDAL,
    )
    expect(r.stderr).toBe('')
    const [first, second] = r.stdout.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>)
    expect(first).toEqual({ loaded: 'function', mapped: false })
    expect(second!.code).toBe('NativeModuleUnavailable')
    expect(second!.message).toMatch(new RegExp(`^OpenDAL backends are not available: the native package opendal does not load on ${process.platform}-${process.arch}`))
    expect(second!.message).toContain('@opendal/lib-')
    expect(second!.message).not.toContain('\n')
  })

  it('the CLI backs up to and restores from a local repository; -r opendal:fs fails with that one line', async () => {
    const repo = join(dir.path, 'repo')
    const src = join(dir.path, 'src')
    await mkdir(src)
    await writeFile(join(src, 'a.txt'), 'hello '.repeat(1000))
    await rusticOk(['-r', repo, 'init'], NO_OPENDAL)
    await rusticOk(['-r', repo, 'backup', src], NO_OPENDAL)
    const target = join(dir.path, 'target')
    await rusticOk(['-r', repo, 'restore', 'latest', '--target', target], NO_OPENDAL)
    expect(await readFile(join(target, src, 'a.txt'), 'utf8')).toBe('hello '.repeat(1000))

    const r = await rustic(['-r', 'opendal:fs', '--opendal', `root=${join(dir.path, 'od')}`, 'init'], NO_OPENDAL)
    expect(r.code).toBe(1)
    const lines = r.stderr.trim().split('\n')
    expect(lines).toHaveLength(1)
    expect(lines[0]).toMatch(new RegExp(`OpenDAL backends are not available: the native package opendal does not load on ${process.platform}-${process.arch}`))
  })
})
