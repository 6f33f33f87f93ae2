import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { describe, expect, it } from 'vitest'
import { CONFORMANCE_CHECKS, describeBackendConformance } from '@rustic-ts/backend-testkit'
import { MemoryBackend } from '@rustic-ts/core'

const root = fileURLToPath(new URL('../../..', import.meta.url))

interface JsonReport {
  testResults: Array<{ assertionResults: Array<{ ancestorTitles: string[]; title: string; status: string }> }>
}

describe('the conformance suite catches broken backends', () => {
  it('each broken backend fails exactly the checks it breaks', async () => {
    const out = await mkdtemp(join(tmpdir(), 'rustic-ts-testkit-'))
    try {
      const report = join(out, 'report.json')
      await promisify(execFile)(
        process.execPath,
        [
          join(root, 'node_modules/vitest/vitest.mjs'),
          'run',
          '--config',
          join(root, 'packages/backend-testkit/test/fixtures/vitest.config.ts'),
          '--reporter=json',
          `--outputFile=${report}`,
        ],
        { cwd: root },
      ).catch(() => undefined) // exits 1: tests fail on purpose
      const json = JSON.parse(await readFile(report, 'utf8')) as JsonReport
      const failed = new Map<string, string[]>()
      const passed = new Map<string, number>()
      for (const r of json.testResults[0]!.assertionResults) {
        const suite = r.ancestorTitles[0]!.replace('backend conformance: ', '')
        if (!failed.has(suite)) failed.set(suite, [])
        if (r.status === 'failed') failed.get(suite)!.push(r.title.split(':')[0]!)
        if (r.status === 'passed') passed.set(suite, (passed.get(suite) ?? 0) + 1)
      }
      expect(failed.size).toBe(7)
      for (const [suite, checks] of failed) {
        const expected = /\[(.*)\]/.exec(suite)![1]!.split(',').filter((s) => s !== '')
        expect(checks.sort(), suite).toEqual(expected.sort())
      }
      expect(passed.get('expect-fail[]')).toBe(CONFORMANCE_CHECKS.length - 2)
    } finally {
      await rm(out, { recursive: true, force: true })
    }
  })

  it('rejects unknown check names in skip', () => {
    expect(() => describeBackendConformance('x', async () => ({ backend: new MemoryBackend() }), { skip: ['nope'] })).toThrow(
      /unknown conformance check "nope"/,
    )
  })
})
