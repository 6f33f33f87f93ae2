import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { isRusticError, parseSnapshot, RawJson, serializeSnapshot, snapshotTime, type Id, type SnapshotFile } from '@rustic-ts/core/internal'

const enc = (s: string): Uint8Array => new TextEncoder().encode(s)
const dec = (b: Uint8Array): string => new TextDecoder().decode(b)
const T = 'eb000f11' + '0'.repeat(56)
const P = '53bfb802' + '1'.repeat(56)

describe('snapshot file', () => {
  it('round-trips restic snapshots byte for byte', () => {
    for (const text of [
      `{"time":"2026-11-23T15:24:37.383716252Z","parent":"${P}","tree":"${T}","paths":["/home/me/src2"],"hostname":"vm","username":"root","excludes":["*.tmp"],"tags":["t1","t2"]}`,
      `{"time":"2026-11-23T16:24:37+01:00","tree":"${T}","paths":["/a","/b \\u003cc\\u003e"],"hostname":"h","username":"u","uid":1000,"gid":1000,"original":"${P}","program_version":"restic 0.17.0"}`,
      `{"time":"2026-11-23T15:24:37.1Z","tree":"${T}","paths":[],"summary":{"backup_start":"2026-11-23T15:24:36.1Z","backup_end":"2026-11-23T15:24:37.1Z","files_new":1,"files_changed":2,"files_unmodified":3,"dirs_new":4,"dirs_changed":5,"dirs_unmodified":6,"data_blobs":7,"tree_blobs":8,"data_added":9,"data_added_packed":10,"total_files_processed":11,"total_bytes_processed":12}}`,
    ]) {
      const s = parseSnapshot(enc(text), 'snapshot 1a2b3c4d')
      expect(s.extra).toBeUndefined()
      expect(dec(serializeSnapshot(s))).toBe(text)
    }
  })

  it('parses fields, ids and the summary', () => {
    const s = parseSnapshot(
      enc(`{"time":"2026-11-23T15:24:37.383716252Z","parent":"${P}","tree":"${T}","paths":["/x"],"hostname":"vm","username":"root","uid":5,"tags":["a"]}`),
      'snapshot',
      ('f'.repeat(64)) as Id,
    )
    expect(s).toEqual({
      id: 'f'.repeat(64),
      time: '2026-11-23T15:24:37.383716252Z',
      parent: P,
      tree: T,
      paths: ['/x'],
      hostname: 'vm',
      username: 'root',
      uid: 5,
      gid: 0,
      excludes: [],
      tags: ['a'],
    })
    expect(snapshotTime(s).toISOString()).toBe('2026-11-23T15:24:37.383Z')
    expect(snapshotTime({ ...s, time: '2026-11-23T17:24:37.5+02:00' }).toISOString()).toBe('2026-11-23T15:24:37.500Z')
  })

  it('writes rustic\'s fields after restic\'s, omits empty ones and never writes the id', () => {
    const s: SnapshotFile = {
      id: 'f'.repeat(64) as Id,
      time: '2026-11-23T15:24:37Z',
      tree: T as Id,
      paths: ['/p'],
      hostname: '',
      username: '',
      uid: 0,
      gid: 0,
      excludes: [],
      tags: [],
      programVersion: 'rustic-ts 0.1.0',
      summary: {
        backupStart: '2026-11-23T15:24:30Z',
        backupEnd: '2026-11-23T15:24:37Z',
        filesNew: 1, filesChanged: 0, filesUnmodified: 0, dirsNew: 1, dirsChanged: 0, dirsUnmodified: 0,
        dataBlobs: 1, treeBlobs: 1, dataAdded: 10, dataAddedPacked: 42, totalFilesProcessed: 1, totalBytesProcessed: 10,
        totalDirsProcessed: 1, backupDuration: 7.5, command: 'rustic-ts backup /p',
      },
      label: 'lbl',
      description: '',
      delete: { kind: 'after', time: '2027-01-01T00:00:00Z' },
      parents: [P as Id],
    }
    const text = dec(serializeSnapshot(s))
    expect(text).toBe(
      `{"time":"2026-11-23T15:24:37Z","tree":"${T}","paths":["/p"],"program_version":"rustic-ts 0.1.0",` +
        `"summary":{"backup_start":"2026-11-23T15:24:30Z","backup_end":"2026-11-23T15:24:37Z","files_new":1,"files_changed":0,"files_unmodified":0,` +
        `"dirs_new":1,"dirs_changed":0,"dirs_unmodified":0,"data_blobs":1,"tree_blobs":1,"data_added":10,"data_added_packed":42,` +
        `"total_files_processed":1,"total_bytes_processed":10,"total_dirs_processed":1,"backup_duration":7.5,"command":"rustic-ts backup /p"},` +
        `"label":"lbl","delete":{"After":"2027-01-01T00:00:00Z"},"parents":["${P}"]}`,
    )
    const back = parseSnapshot(enc(text), 'snapshot')
    expect(back).toEqual({ ...s, id: undefined, description: undefined })
    expect(dec(serializeSnapshot({ ...s, delete: { kind: 'never' } }))).toContain('"delete":"Never"')
    expect(parseSnapshot(enc(`{"time":"2026-11-23T15:24:37Z","tree":"${T}","paths":null,"delete":"NotSet"}`), 's').delete).toBeUndefined()
  })

  it('keeps unknown fields (also in the summary) verbatim through parse and serialise', () => {
    const text =
      `{"time":"2026-11-23T15:24:37Z","tree":"${T}","paths":["/p"],"hostname":"vm",` +
      `"summary":{"backup_start":"2026-11-23T15:24:30Z","backup_end":"2026-11-23T15:24:37Z","files_new":0,"files_changed":0,"files_unmodified":0,"dirs_new":0,"dirs_changed":0,"dirs_unmodified":0,"data_blobs":0,"tree_blobs":0,"data_added":0,"data_added_packed":0,"total_files_processed":0,"total_bytes_processed":0,"new_stat":18446744073709551615},` +
      `"future_field":{"z":1,"a":"\\u00e9"},"big":18446744073709551615}`
    const s = parseSnapshot(enc(text), 'snapshot')
    expect(s.extra).toEqual({ future_field: new RawJson('{"z":1,"a":"\\u00e9"}'), big: new RawJson('18446744073709551615') })
    expect(s.summary?.extra).toEqual({ new_stat: new RawJson('18446744073709551615') })
    expect(dec(serializeSnapshot(s))).toBe(text)
    // Modifying a known field keeps the unknown ones.
    expect(dec(serializeSnapshot({ ...s, tags: ['new'] }))).toContain('"tags":["new"],"summary":')
  })

  it('rejects malformed snapshots with DecodeError naming the file', () => {
    for (const text of [
      '{"time":"2026-11-23T15:24:37Z","paths":[]}',
      `{"time":"23.11.2026","tree":"${T}","paths":[]}`,
      `{"time":"2026-11-23T15:24:37Z","tree":"${T}","paths":"/p"}`,
      `{"time":"2026-11-23T15:24:37Z","tree":"${T}","paths":[],"parent":"abc"}`,
      `{"time":"2026-11-23T15:24:37Z","tree":"${T}","paths":[],"uid":-1}`,
      `{"time":"2026-11-23T15:24:37Z","tree":"${T}","paths":[],"summary":{"files_new":"x"}}`,
      `{"time":"2026-11-23T15:24:37Z","tree":"${T}","paths":[],"delete":"Sometimes"}`,
      '{"time":',
    ]) {
      let err: unknown
      try {
        parseSnapshot(enc(text), 'snapshot 1a2b3c4d')
      } catch (e) {
        err = e
      }
      expect(isRusticError(err, 'DecodeError')).toBe(true)
      expect((err as Error).message).toContain('snapshot 1a2b3c4d')
    }
  })

  it('reads a snapshot the same on the fast path as through the schema, and refuses the same ones', () => {
    // a "delete":"NotSet" member sends a snapshot down the schema path and changes nothing else in the result
    const outcome = (text: string): unknown => {
      try {
        return parseSnapshot(enc(text), 'snapshot 1a2b3c4d', T as Id)
      } catch (e) {
        return isRusticError(e, 'DecodeError') ? 'DecodeError' : e
      }
    }
    const id = fc.constantFrom(T, P, T.toUpperCase(), 'abc', 5, null)
    const str = fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom(null, 3, true))
    const list = fc.oneof(fc.array(fc.string({ maxLength: 6 }), { maxLength: 3 }), fc.constantFrom(null, '/p', [1], ['a', null]))
    const uint = fc.constantFrom(0, 1000, -1, 1.5, 2 ** 53, '7', null)
    const member = fc.record(
      {
        time: fc.constantFrom('2026-11-23T15:24:37.383716252Z', '2026-11-23T16:24:37+01:00', '23.11.2026', 7, null),
        parent: id,
        tree: id,
        paths: list,
        hostname: str,
        username: str,
        uid: uint,
        gid: uint,
        excludes: list,
        tags: list,
        original: id,
        program_version: str,
        summary: fc.constantFrom({ files_new: 1, total_bytes_processed: 2 }, { files_new: 'x' }, [], 'x', null),
        label: str,
        description: str,
        parents: fc.constantFrom(null, [P]),
        other: fc.constantFrom({ a: [1, 2] }, 'x', null),
      },
      { requiredKeys: [] },
    )
    fc.assert(
      fc.property(member, (m) => {
        const text = JSON.stringify(m)
        expect(outcome(text)).toEqual(outcome(`${text.slice(0, -1)}${text === '{}' ? '' : ','}"delete":"NotSet"}`))
      }),
      { numRuns: 500 },
    )
  })
})
