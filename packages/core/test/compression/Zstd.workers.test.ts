import { execFile } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'

const execFileP = promisify(execFile)
const fixture = (name: string): string => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

/** Node's own zstd is there from 22.15 (and 23.8). */
const [major, minor] = process.versions.node.split('.').map(Number) as [number, number]
const nodeHasZstd = (major === 22 && minor >= 15) || (major === 23 && minor >= 8) || major >= 24

interface PoolsReport {
  zstdNapi: boolean
  provider: string
  compresses: boolean
  sealPool: boolean
  sealed: Array<{ same: boolean; compressed: boolean; size: number }> | null
  restorePool: boolean
  restored: { written: number; error: string | null; same: boolean } | null
  roundTrip: boolean
  verifyPool: boolean
  checkFindings: string[]
  packBytes: number
  sourceBytes: number
}

/** Runs fixtures/workerPools.mjs (on core's build) in a process where the zstd packages are blocked. */
async function pools(blockPrebuilt: boolean): Promise<PoolsReport> {
  const { stdout } = await execFileP(process.execPath, ['--require', fixture('blockZstdPackages.cjs'), fixture('workerPools.mjs')], {
    env: { ...process.env, RUSTIC_TS_TEST_BLOCK_PREBUILT_ZSTD: blockPrebuilt ? '1' : '0' },
  })
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as PoolsReport
}

// The worker pools used to need zstd-napi itself (its in-place calls); without it (Node 24 without a
// build of it, an install with scripts off) they did not start and every backup and restore ran on one thread.
describe('worker pools where zstd-napi does not load', () => {
  it('they start with the provider in use (Node\'s zstd or the prebuilt package), seal compressed, restore and verify', async () => {
    const r = await pools(false)
    expect(r.zstdNapi).toBe(false)
    expect(r.provider).toBe(nodeHasZstd ? 'node:zlib' : '@toondepauw/node-zstd')
    expect(r.sealPool).toBe(true)
    expect(r.sealed!.map((s) => [s.same, s.compressed])).toEqual([[true, true], [true, true], [true, false]])
    expect(r.sealed![0]!.size).toBeLessThan(5000)
    expect(r.restorePool).toBe(true)
    expect(r.restored).toEqual({ written: 180_000, error: null, same: true })
    expect(r.roundTrip).toBe(true)
    expect(r.verifyPool).toBe(true)
    expect(r.checkFindings).toEqual([])
    expect(r.packBytes).toBeLessThan((3 << 20) + 20_000) // the text file stored compressed
  })

  it.skipIf(nodeHasZstd)('with no compressor at all they start too: seal uncompressed (compression auto), decompress with fzstd, verify', async () => {
    const r = await pools(true)
    expect(r).toMatchObject({ zstdNapi: false, provider: 'fzstd', compresses: false, sealPool: true, restorePool: true, roundTrip: true, verifyPool: true, checkFindings: [] })
    expect(r.sealed!.map((s) => [s.same, s.compressed])).toEqual([[true, false], [true, false], [true, false]])
    expect(r.restored).toEqual({ written: 180_000, error: null, same: true })
    expect(r.packBytes).toBeGreaterThanOrEqual(r.sourceBytes)
  })
})
