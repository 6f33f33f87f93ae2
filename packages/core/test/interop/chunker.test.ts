import { execFileSync } from 'node:child_process'
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, test } from 'vitest'
import { Chunker, parsePolynomial } from '../../src/chunker/index.js'

interface TreeNode {
  name: string
  type: string
  content?: string[] | null
  subtree?: string
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex')

/** Files restic backs up: random, compressible text, a mix with long constant runs, small and empty. */
async function makeFiles(dir: string): Promise<Record<string, number>> {
  const files: Record<string, Uint8Array> = {}
  files['random.bin'] = randomBytes(40 << 20)
  const lines: string[] = []
  let size = 0
  for (let i = 0; size < 12 << 20; i++) {
    const line = `${i.toString().padStart(8, '0')} level=info msg="request ${(i * 7919) % 100_003} done" took=${i % 977}ms path=/api/v1/items/${i % 4096}\n`
    lines.push(line)
    size += line.length
  }
  files['log.txt'] = Buffer.from(lines.join(''))
  // zeros (cut at the minimum), random, 0xff (never matches: cut at the 8 MiB maximum), random
  files['mixed.bin'] = Buffer.concat([
    Buffer.alloc(3 << 20),
    randomBytes(5 << 20),
    Buffer.alloc(17 << 20, 0xff),
    randomBytes((1 << 20) + 12345),
  ])
  files['small.bin'] = randomBytes(100_000)
  files['empty.bin'] = new Uint8Array(0)
  const sizes: Record<string, number> = {}
  for (const [name, data] of Object.entries(files)) {
    await writeFile(join(dir, name), data)
    sizes[name] = data.length
  }
  return sizes
}

describe('chunks equal restic 0.14 backup blobs', () => {
  let tmp: string
  let env: NodeJS.ProcessEnv
  const restic = (...args: string[]): string =>
    execFileSync('restic', ['--no-cache', ...args], { cwd: tmp, env, maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'pipe'] }).toString('utf8')
  let pol: bigint
  let nodes: TreeNode[]

  beforeAll(async () => {
    tmp = await mkdtemp(join(tmpdir(), 'rustic-chunker-'))
    env = { ...process.env, RESTIC_PASSWORD: 'chunker-test', RESTIC_REPOSITORY: join(tmp, 'repo') }
    delete env.RESTIC_PASSWORD_FILE
    delete env.RESTIC_PASSWORD_COMMAND
    await mkdir(join(tmp, 'data'))
    await makeFiles(join(tmp, 'data'))
    restic('init')
    pol = parsePolynomial((JSON.parse(restic('cat', 'config')) as { chunker_polynomial: string }).chunker_polynomial)
    restic('backup', '--json', 'data')
    const [snap] = JSON.parse(restic('snapshots', '--json')) as Array<{ tree: string }>
    const root = JSON.parse(restic('cat', 'blob', snap!.tree)) as { nodes: TreeNode[] }
    const dataDir = root.nodes.find((n) => n.name === 'data' && n.type === 'dir')
    nodes = (JSON.parse(restic('cat', 'blob', dataDir!.subtree!)) as { nodes: TreeNode[] }).nodes
  })

  afterAll(async () => {
    if (tmp) await rm(tmp, { recursive: true, force: true })
  })

  test('the repository polynomial is irreducible of degree 53 and the tree lists our files', () => {
    expect(pol >> 53n).toBe(1n)
    expect(nodes.map((n) => n.name).sort()).toEqual(['empty.bin', 'log.txt', 'mixed.bin', 'random.bin', 'small.bin'])
  })

  for (const name of ['random.bin', 'log.txt', 'mixed.bin', 'small.bin', 'empty.bin']) {
    test(`${name}: SHA-256 of each chunk = restic's content ids, in order`, async () => {
      const node = nodes.find((n) => n.name === name)!
      const want = node.content ?? []
      const chunker = new Chunker(pol)
      // streamed from the file (1 MiB reads: chunks span reads)
      const got: string[] = []
      for await (const c of chunker.chunks(createReadStream(join(tmp, 'data', name), { highWaterMark: 1 << 20 }))) {
        got.push(sha256(c))
      }
      expect(got).toEqual(want)
      // and in memory
      expect(chunker.split(await readFile(join(tmp, 'data', name))).map(sha256)).toEqual(want)
      if (name === 'random.bin') expect(want.length).toBeGreaterThan(10)
      if (name === 'mixed.bin') expect(want.length).toBeGreaterThan(6)
    })
  }
})
