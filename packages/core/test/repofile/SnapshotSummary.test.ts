import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { fastSummaryJson, SnapshotSummarySchema } from '@rustic-ts/core/internal'

describe('snapshot summary', () => {
  it('checks a summary without zod as the schema does: the same result, or leaves it to the schema', () => {
    const count = fc.constantFrom(undefined, 0, 7, 2 ** 53 - 1, 2 ** 53, -1, 1.5, '3', null)
    const time = fc.constantFrom(undefined, '2026-11-23T15:19:54.843040384Z', '2026-11-23T16:19:54+01:00', '2026-02-30T00:00:00Z', 'yesterday', 5, null)
    const summary = fc.record(
      {
        backup_start: time,
        backup_end: time,
        files_new: count,
        files_changed: count,
        total_bytes_processed: count,
        data_added_files: count,
        total_dirsize_processed: count,
        backup_duration: fc.constantFrom(undefined, 0.25, -1, 3, '1', null),
        total_duration: fc.constantFrom(undefined, 12.5, null),
        command: fc.constantFrom(undefined, 'rustic-ts backup .', 3, null),
        other: fc.constantFrom(undefined, { a: 1 }, 'x'),
      },
      { requiredKeys: [] },
    )
    let fast = 0
    fc.assert(
      fc.property(summary, (s) => {
        // as JSON.parse gives it: no undefined members
        const raw = JSON.parse(JSON.stringify(s)) as Record<string, unknown>
        const viaSchema = SnapshotSummarySchema.safeParse(raw)
        const viaFast = fastSummaryJson(raw)
        if (viaFast !== undefined) {
          fast++
          expect(viaSchema.success).toBe(true)
          expect(viaFast).toEqual(viaSchema.data)
        }
      }),
      { numRuns: 2000 },
    )
    expect(fast).toBeGreaterThan(0)
    // what restic and rustic write goes the fast way
    expect(fastSummaryJson({ backup_start: '2026-11-23T15:19:54Z', backup_end: '2026-11-23T15:19:55Z', files_new: 3, data_added: 10, command: 'x' })).toBeDefined()
  })
})
