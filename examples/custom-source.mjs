// Back up something that is not a directory on disk: a ReadSource yields the entries of the snapshot
// (each a path, a Node with its metadata and, for files, a function opening its content as a stream).
// This one backs up an in-memory tree and a database dump produced as a stream while it is read (the
// dump is never held in memory or written to a temporary file).
//
// Run: node examples/custom-source.mjs   (after npm run build)
import { createHash } from 'node:crypto'
import { MemoryBackend, Repository, shortId } from 'rustic-ts'

/** Go's os.ModeDir bit: a Node's `mode` is Go's FileMode (permission bits plus type bits). */
const GO_MODE_DIR = 2 ** 31

/**
 * A dump of `rows` rows, made as it is read, as a database's dump command would stream it. Content is
 * given to the backup as chunks of bytes (Uint8Array or Buffer, any sizes), never as strings.
 */
async function* databaseDump(rows) {
  yield Buffer.from('CREATE TABLE orders (id INTEGER, item TEXT);\n')
  for (let i = 0; i < rows; i++) yield Buffer.from(`INSERT INTO orders VALUES (${i}, 'item ${i % 97}');\n`)
}

/**
 * A ReadSource over a tree of plain objects: a string is a file's content, a function a file whose
 * content is streamed, an object a directory.
 */
class TreeSource {
  constructor(root, tree) {
    this.root = root
    this.tree = tree
    this.time = new Date().toISOString() // RFC 3339, as snapshots store times
  }

  /** The snapshot's `paths`. */
  snapshotPaths() {
    return [this.root]
  }

  /** Totals for progress bars; undefined when unknown (streamed files have no size beforehand). */
  async size() {
    return undefined
  }

  /** Depth first, each directory before its contents, names in byte order. */
  async *entries(options) {
    yield* this.walk(this.root.split('/').filter(Boolean), this.root, this.tree, true, options)
  }

  async *walk(names, path, tree, isRoot, options) {
    const meta = (name) => ({ name, mtime: this.time, atime: this.time, ctime: this.time, uid: 1000, gid: 1000 })
    if (isRoot) {
      // the root's parent directories first: /backup, then /backup/app
      let p = ''
      for (const name of names) {
        p += `/${name}`
        yield { path: p, node: { ...meta(name), type: 'dir', mode: GO_MODE_DIR + 0o755, content: null } }
      }
    }
    for (const name of Object.keys(tree).sort((a, b) => Buffer.compare(Buffer.from(a), Buffer.from(b)))) {
      options?.signal?.throwIfAborted()
      const value = tree[name]
      const child = `${path}/${name}`
      if (typeof value === 'object') {
        yield { path: child, node: { ...meta(name), type: 'dir', mode: GO_MODE_DIR + 0o755, content: null } }
        yield* this.walk([], child, value, false, options)
      } else {
        const open = typeof value === 'function' ? value : async function* () { yield Buffer.from(value) }
        yield { path: child, node: { ...meta(name), type: 'file', mode: 0o644, content: [] }, open }
      }
    }
  }
}

const backends = { repository: new MemoryBackend('custom-source') }
const credentials = { password: 'example password' }
await Repository.init({}, backends, credentials)
const repo = await Repository.open({}, backends, credentials)
const indexed = await repo.toIndexed()

const source = new TreeSource('/backup/app', {
  'README.txt': 'an application backed up from memory\n',
  config: { 'settings.json': JSON.stringify({ retries: 3 }) + '\n' },
  'orders.sql': () => databaseDump(20_000),
})
const { snapshot, skipped } = await indexed.backup(source, { tags: ['app'], host: 'app-server' })
for (const s of skipped) console.log(`skipped ${s.path}: ${s.error}`)
console.log(`snapshot ${shortId(snapshot.id)} of ${snapshot.paths.join(', ')}: ${snapshot.summary.totalFilesProcessed} files, ${snapshot.summary.totalBytesProcessed} bytes`)

const { node, path } = await indexed.resolveSnapshotPath(`${snapshot.id}:/backup/app`)
for await (const entry of indexed.walk(node, path)) console.log(`  ${entry.path}${entry.node.type === 'dir' ? '/' : ` (${entry.node.size} bytes)`}`)

// the dump reads back byte for byte
const hash = async (chunks) => {
  const h = createHash('sha256')
  for await (const c of chunks) h.update(c)
  return h.digest('hex')
}
const dump = await indexed.resolveSnapshotPath(`${snapshot.id}:/backup/app/orders.sql`)
const same = (await hash(indexed.readFile(dump.node))) === (await hash(databaseDump(20_000)))
console.log(same ? 'orders.sql reads back identical to the dump' : 'orders.sql DIFFERS from the dump')
await repo.close()
if (!same) process.exitCode = 1
