import { Readable } from 'node:stream'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { CommandSource, goTimeToDate, RusticError, StreamSource, type ReadSourceEntry } from '@rustic-ts/core/internal'
import { collect, makeResticRepo, ourNodeObject, resticNodeObject, type ResticRepo } from './helpers.js'

async function readAll(entry: ReadSourceEntry): Promise<Buffer> {
  const chunks: Buffer[] = []
  for await (const c of await entry.open!()) chunks.push(Buffer.from(c))
  return Buffer.concat(chunks)
}

describe('StreamSource', () => {
  it('one file /stdin: mode 0644, times now, this process as owner', async () => {
    const before = Date.now()
    const src = new StreamSource(Readable.from([Buffer.from('hello '), Buffer.from('world')]))
    const { entries } = await collect(src)
    expect(entries.map((e) => e.path)).toEqual(['/stdin'])
    const node = entries[0]!.node
    expect(node).toMatchObject({ name: 'stdin', type: 'file', mode: 0o644, uid: process.getuid!(), gid: process.getgid!(), content: [] })
    expect(node.atime).toBe(node.mtime)
    expect(node.ctime).toBe(node.mtime)
    const t = goTimeToDate(node.mtime).getTime()
    expect(t).toBeGreaterThanOrEqual(before)
    expect(t).toBeLessThanOrEqual(Date.now())
    expect((await readAll(entries[0]!)).toString()).toBe('hello world')
    await expect(Promise.resolve(entries[0]!.open!())).rejects.toThrow(/already read/)
    expect(await src.size()).toBeUndefined()
    expect(src.snapshotPaths()).toEqual(['/stdin'])
  })

  it('a name with directories, strings, and an opener function', async () => {
    const { entries } = await collect(new StreamSource((async function* () { yield 'a'; yield new Uint8Array([0x62]) })(), 'dir/sub/x.txt'))
    expect(entries.map((e) => e.path)).toEqual(['/dir', '/dir/sub', '/dir/sub/x.txt'])
    expect(entries[0]!.node).toMatchObject({ type: 'dir', mode: 2147484141, content: null })
    expect(entries[0]!.open).toBeUndefined()
    expect((await readAll(entries[2]!)).toString()).toBe('ab')
    let opened = 0
    const lazy = new StreamSource(() => {
      opened++
      return Readable.from([Buffer.from('lazy')])
    }, '/abs/../y')
    const { entries: e2 } = await collect(lazy)
    expect(e2.map((e) => e.path)).toEqual(['/y'])
    expect(opened).toBe(0)
    expect((await readAll(e2[0]!)).toString()).toBe('lazy')
    expect(opened).toBe(1)
    expect(() => new StreamSource(Readable.from([]), '.')).toThrow(RusticError)
    expect(() => new StreamSource(Readable.from([]), '')).toThrow(RusticError)
  })
})

describe('StreamSource against restic 0.14 --stdin', () => {
  let repo: ResticRepo
  beforeAll(async () => {
    repo = await makeResticRepo()
  })
  afterAll(async () => {
    await repo?.cleanup()
  })

  it.each([['stdin'], ['a/b.txt'], ['/abs/c.txt']])('--stdin-filename %s: same paths and nodes (but times, size)', async (name) => {
    const id = await repo.backup(['--stdin', '--stdin-filename', name], { input: 'data from stdin\n' })
    const theirs = await repo.nodes(id)
    const { entries } = await collect(new StreamSource(Readable.from([Buffer.from('x')]), name))
    expect(entries.map((e) => e.path)).toEqual(theirs.map((t) => t.path))
    const strip = (o: Record<string, unknown>): Record<string, unknown> => {
      const { mtime: _m, atime: _a, ctime: _c, size: _s, ...rest } = o
      return rest
    }
    entries.forEach((e, i) => {
      const t = resticNodeObject(theirs[i]!.node)
      expect(t['atime']).toBe(t['mtime'])
      expect(t['ctime']).toBe(t['mtime'])
      expect(strip(ourNodeObject(e.node))).toEqual(strip(t))
    })
  })
})

describe('CommandSource', () => {
  it("stores the command's stdout", async () => {
    const src = new CommandSource(`sh -c "printf 'hello'; printf ' world'"`, 'out.txt')
    expect(src.argv).toEqual(['sh', '-c', "printf 'hello'; printf ' world'"])
    const { entries } = await collect(src)
    expect(entries.map((e) => e.path)).toEqual(['/out.txt'])
    expect((await readAll(entries[0]!)).toString()).toBe('hello world')
  })

  it('argv arrays, no shell; large outputs', async () => {
    const { entries } = await collect(new CommandSource(['printf', '%s', 'a $HOME *']))
    expect(entries.map((e) => e.path)).toEqual(['/stdin'])
    expect((await readAll(entries[0]!)).toString()).toBe('a $HOME *')
    const big = await collect(new CommandSource('head -c 5000000 /dev/zero'))
    expect((await readAll(big.entries[0]!)).length).toBe(5_000_000)
  })

  it('a failing command makes the content stream throw, after its output', async () => {
    const { entries } = await collect(new CommandSource(['sh', '-c', 'printf partial; echo boom >&2; exit 3'], 'dump.sql'))
    const got: string[] = []
    const err = await (async () => {
      try {
        for await (const c of await entries[0]!.open!()) got.push(Buffer.from(c).toString())
      } catch (e) {
        return e
      }
      return undefined
    })()
    expect(got.join('')).toBe('partial')
    expect(err).toBeInstanceOf(RusticError)
    expect(err).toMatchObject({ kind: 'ExternalCommand', code: 'CommandFailed' })
    expect((err as Error).message).toBe('stdin command "sh" exited with code 3: boom')
  })

  it('a missing program, a killed command', async () => {
    const missing = (await collect(new CommandSource('/nonexistent/prog --x'))).entries[0]!
    await expect(readAll(missing)).rejects.toMatchObject({ kind: 'ExternalCommand', message: expect.stringMatching(/"\/nonexistent\/prog" not found/) })
    const killed = (await collect(new CommandSource(['sh', '-c', 'kill -9 $$']))).entries[0]!
    await expect(readAll(killed)).rejects.toMatchObject({ kind: 'ExternalCommand', message: expect.stringMatching(/"sh" was killed by SIGKILL/) })
  })

  it('stopping early kills the command', async () => {
    const { entries } = await collect(new CommandSource('yes'))
    let n = 0
    for await (const c of await entries[0]!.open!()) {
      n += c.length
      if (n > 100_000) break
    }
    expect(n).toBeGreaterThan(100_000)
  })

  it('invalid command lines are refused', () => {
    expect(() => new CommandSource('')).toThrow(/empty/)
    expect(() => new CommandSource('sh -c "unterminated')).toThrow(/unterminated/)
  })
})
