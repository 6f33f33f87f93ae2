import { describe, expect, it } from 'vitest'
import { applyModification, parseGoTime, SnapshotModificationSchema, type SnapshotModification } from '@rustic-ts/core/internal'
import { snap } from '../snapshots/helpers.js'

const id = 'ab'.repeat(32) as never
const now = new Date('2025-01-01T00:00:00Z')
const apply = (m: SnapshotModification, s = snap('2024-01-01T00:00:00Z', { id, tags: ['a', 'b'] })) =>
  applyModification(s, SnapshotModificationSchema.parse(m), now)

describe('applyModification', () => {
  it('sets, then adds (after the existing, no repeats), then removes tags; comma lists split', () => {
    expect(apply({ addTags: ['c,a', 'd'] })!.tags).toEqual(['a', 'b', 'c', 'd'])
    expect(apply({ removeTags: ['a'] })!.tags).toEqual(['b'])
    expect(apply({ setTags: ['x,y'], addTags: ['z'], removeTags: ['y'] })!.tags).toEqual(['x', 'z'])
    expect(apply({ setTags: [''] })!.tags).toEqual([])
  })

  it('returns undefined for a change that changes nothing', () => {
    expect(apply({ addTags: ['a'] })).toBeUndefined()
    expect(apply({ removeTags: ['zzz'] })).toBeUndefined()
    expect(apply({ setTags: ['a', 'b'] })).toBeUndefined()
    expect(apply({ setHostname: 'h', setLabel: '', setDescription: '' })).toBeUndefined()
    expect(apply({ setTime: '2024-01-01T01:00:00+01:00' })).toBeUndefined()
    expect(apply({ setDelete: 'notSet' })).toBeUndefined()
    expect(apply({ setDelete: 'never' }, snap('2024-01-01T00:00:00Z', { id, delete: { kind: 'never' } }))).toBeUndefined()
  })

  it('a changed snapshot loses its id and gets original = the first id', () => {
    const changed = apply({ addTags: ['c'] })!
    expect(changed.id).toBeUndefined()
    expect(changed.original).toBe(id)
    const older = 'cd'.repeat(32) as never
    expect(apply({ addTags: ['c'] }, snap('2024-01-01T00:00:00Z', { id, original: older }))!.original).toBe(older)
  })

  it('label, description, host, time and delete policies', () => {
    const m = apply({
      setLabel: 'L',
      setDescription: 'D',
      setHostname: 'other',
      setTime: '2023-06-01T12:00:00+02:00',
      setDelete: 'never',
    })!
    expect([m.label, m.description, m.hostname, m.time, m.delete]).toEqual(['L', 'D', 'other', '2023-06-01T12:00:00+02:00', { kind: 'never' }])
    const cleared = apply({ setLabel: '', setDescription: '', setDelete: 'notSet' }, { ...m, id })!
    expect([cleared.label, cleared.description, cleared.delete]).toEqual([undefined, undefined, undefined])
    const after = apply({ setDelete: '30d' })!.delete as { kind: 'after'; time: string }
    expect(parseGoTime(after.time).unixNs).toBe(BigInt(now.getTime() + 30 * 86_400_000) * 1_000_000n)
    const date = apply({ setDelete: '2030-01-01T00:00:00Z' })!.delete as { kind: 'after'; time: string }
    expect(parseGoTime(date.time).unixNs).toBe(BigInt(Date.parse('2030-01-01T00:00:00Z')) * 1_000_000n)
    const t = apply({ setTime: new Date('2020-02-02T02:02:02Z') })!
    expect(parseGoTime(t.time).unixNs).toBe(BigInt(Date.parse('2020-02-02T02:02:02Z')) * 1_000_000n)
    expect(() => apply({ setDelete: 'soon' })).toThrow(/invalid delete policy "soon"/)
  })
})
