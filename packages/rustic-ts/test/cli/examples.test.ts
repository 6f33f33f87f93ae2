import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { run } from '../helpers/restic.js'

const DEMO = fileURLToPath(new URL('../../../../examples/demo.mjs', import.meta.url))

describe('examples', () => {
  it('demo.mjs backs up, restores identically, skips unchanged files and refuses a wrong password', async () => {
    const r = await run(process.execPath, [DEMO])
    expect(r.code, r.stderr).toBe(0)
    const out = r.stdout.toString()
    expect(out).toMatch(/created repository [0-9a-f]{8} \(version 2\)/)
    expect(out).toMatch(/all \d+ files are identical to the source/)
    expect(out).toMatch(/second backup [0-9a-f]{8} \(parent [0-9a-f]{8}\): \d+ files unmodified, 0 bytes added/)
    expect(out).toContain('[IncorrectPassword]')
  })
})
