/**
 * File names and symlink targets that start with (or are) U+FEFF, the byte-order mark: a default
 * `TextDecoder` drops a leading BOM, restic 0.14 keeps it (`"name":"\\ufeffb"`). Back up such files
 * with the real restic, then check parseTree on restic's tree blob, and that nodeFromStats and
 * LocalSource make the same tree bytes.
 */
import { execFile, spawnSync } from 'node:child_process'
import * as fs from 'node:fs'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  hashId,
  LocalSource,
  nodeFromStats,
  nodeNameBytes,
  parseTree,
  serializeNode,
  serializeTree,
  utf8Lossy,
  UserNames,
  type Id,
  type Node,
} from '@rustic-ts/core/internal'
import { useCheapKey } from '../commands/helpers.js'

const run = promisify(execFile)
const hasRestic = spawnSync('restic', ['version']).status === 0
const BOM = Buffer.from([0xef, 0xbb, 0xbf])
const B = (s: string): Buffer => Buffer.from(s)

/** The names in the backed-up directory, as bytes. */
const FILES = [Buffer.concat([BOM, B('b')]), Buffer.concat([B('a'), BOM]), BOM, Buffer.concat([BOM, BOM, B('x')])]
const LINK_TARGET = Buffer.concat([BOM, B('target')])

let base: string
let src: string
let treeBlob: Buffer // restic's tree of `src`

async function restic(repo: string, ...args: string[]): Promise<Buffer> {
  const { stdout } = await run('restic', ['-r', repo, '--no-cache', ...args], {
    cwd: base,
    env: { ...process.env, RESTIC_PASSWORD: 'pw' },
    encoding: 'buffer',
    maxBuffer: 64 * 2 ** 20,
  })
  return stdout
}

beforeAll(async () => {
  if (!hasRestic) return
  base = mkdtempSync(join(tmpdir(), 'rustic-bom-'))
  src = join(base, 'src')
  fs.mkdirSync(src)
  const p = (name: Buffer): Buffer => Buffer.concat([B(src), B('/'), name])
  for (const name of FILES) fs.writeFileSync(p(name), name)
  fs.symlinkSync(LINK_TARGET, p(B('link')))
  const repo = join(base, 'repo')
  await restic(repo, 'init')
  await useCheapKey(repo, 'pw') // each later restic run opens it fast
  const out = (await restic(repo, 'backup', '--json', 'src')).toString().trim().split('\n')
  const snapshotId = (JSON.parse(out[out.length - 1]!) as { snapshot_id: string }).snapshot_id
  const snap = JSON.parse((await restic(repo, 'cat', 'snapshot', snapshotId)).toString()) as { tree: Id }
  const root = parseTree(await restic(repo, 'cat', 'blob', snap.tree), 'root tree')
  treeBlob = await restic(repo, 'cat', 'blob', root[0]!.subtree!)
  expect(hashId(treeBlob)).toBe(root[0]!.subtree)
})

afterAll(() => {
  if (base) rmSync(base, { recursive: true, force: true })
})

describe.skipIf(!hasRestic)('names with a byte-order mark (restic 0.14)', () => {
  it('parseTree keeps a leading U+FEFF and writes the tree back byte for byte', () => {
    const text = treeBlob.toString()
    // what restic 0.14 stores: Go-quoted names (U+FEFF is not printable), the target raw
    expect(text).toContain('"name":"\\\\ufeffb"')
    expect(text).toContain('"name":"a\\\\ufeff"')
    expect(text).toContain('"name":"\\\\ufeff"')
    expect(text).toContain('"linktarget":"\ufefftarget"')
    const nodes = parseTree(treeBlob, 'src tree')
    // in byte order: 'a' (61) and 'l' (6c) before U+FEFF (ef bb bf)
    expect(nodes.map((n) => n.name)).toEqual(['a\ufeff', 'link', '\ufeff', '\ufeffb', '\ufeff\ufeffx'])
    expect(nodes.find((n) => n.name === 'link')!.linktarget).toBe('\ufefftarget')
    for (const n of nodes) expect(n.nameRaw).toBeUndefined()
    expect(Buffer.compare(Buffer.from(serializeTree(nodes)), treeBlob)).toBe(0)
  })

  it('nodeFromStats (names and target as bytes or as text) makes restic’s nodes', async () => {
    const names = new UserNames()
    const theirs = parseTree(treeBlob, 'src tree')
    for (const asText of [false, true]) {
      const ours: Node[] = theirs.map((n) => {
        const nameBytes = Buffer.from(nodeNameBytes(n))
        const path = Buffer.concat([B(src), B('/'), nameBytes])
        const st = fs.lstatSync(path, { bigint: true })
        const link = st.isSymbolicLink() ? fs.readlinkSync(path, { encoding: 'buffer' }) : undefined
        const node = nodeFromStats(asText ? utf8Lossy(nameBytes) : new Uint8Array(nameBytes), st, {
          ...(link ? { linktarget: asText ? utf8Lossy(link) : new Uint8Array(link) } : {}),
        })
        node.content = n.content ?? null
        return node
      })
      await Promise.all(
        ours.map(async (node) => {
          const user = await names.userName(node.uid)
          const group = await names.groupName(node.gid)
          if (user) node.user = user
          if (group) node.group = group
        }),
      )
      expect(Buffer.from(serializeTree(ours)).toString()).toBe(treeBlob.toString())
    }
  })

  it('LocalSource reads the names with their BOM, and its nodes serialise as restic’s', async () => {
    const theirs = new Map(parseTree(treeBlob, 'src tree').map((n) => [n.name, n]))
    const ours: Node[] = []
    for await (const e of new LocalSource(['src'], { cwd: base }).entries({ onError: (path, err) => expect.fail(`${path}: ${String(err)}`) })) {
      if (e.path === 'src') continue
      const their = theirs.get(e.node.name)
      expect(their, e.path).toBeDefined()
      expect(e.path).toBe(`src/${e.node.name}`)
      const node = { ...e.node, content: their!.content ?? null }
      expect(serializeNode(node)).toBe(serializeNode(their!))
      ours.push(node)
    }
    expect(ours).toHaveLength(theirs.size)
    expect(Buffer.compare(Buffer.from(serializeTree(ours)), treeBlob)).toBe(0)
  })
})
