// A storage backend of your own: MapBackend keeps a repository's files in a JavaScript Map (one entry
// per file, keyed by type and id). Swap the Map for your storage (a database table, a key-value store,
// an object store) and keep the rules in the comments. The test suite runs the conformance kit of
// @rustic-ts/backend-testkit on this class (packages/rustic-ts/test/cli/examples.conformance.test.ts);
// run it on yours the same way.
//
// Run: node examples/custom-backend.mjs   (after npm run build)
import { fileURLToPath, pathToFileURL } from 'node:url'
import { BackendError, CONFIG_ID, checkRange, Repository, shortId, throwIfAborted } from 'rustic-ts'

/** A repository's files in a Map: `type/id` -> bytes. */
export class MapBackend {
  /** @param {string} name shown in location() (never put secrets there) */
  constructor(name = 'example') {
    this.name = name
    /** @type {Map<string, Uint8Array>} */
    this.files = new Map()
  }

  location() {
    return `map:${this.name}`
  }

  /** The config file is always addressed with CONFIG_ID (all zeros). */
  key(type, id) {
    return `${type}/${type === 'config' ? CONFIG_ID : id}`
  }

  get(type, id) {
    const data = this.files.get(this.key(type, id))
    // a missing file is a NotFound BackendError naming the file and the location
    if (data === undefined) throw new BackendError('NotFound', `${type} ${id} not found in ${this.location()}`)
    return data
  }

  async create(options) {
    throwIfAborted(options?.signal) // every call honours an AbortSignal
  }

  async list(type, options) {
    return (await this.listWithSize(type, options)).map(([id]) => id)
  }

  async listWithSize(type, options) {
    throwIfAborted(options?.signal)
    const out = []
    for (const [key, data] of this.files) if (key.startsWith(`${type}/`)) out.push([key.slice(type.length + 1), data.length])
    return out
  }

  async readFull(type, id, options) {
    throwIfAborted(options?.signal)
    // hand out a copy: the caller may change what it gets
    return Uint8Array.from(this.get(type, id))
  }

  async readPartial(type, id, _cacheable, offset, length, options) {
    throwIfAborted(options?.signal)
    const data = this.get(type, id)
    checkRange(type, id, offset, length, data.length) // exactly `length` bytes, or an error
    return Uint8Array.prototype.slice.call(data, offset, offset + length) // a copy, whatever `data` is
  }

  async writeBytes(type, id, _cacheable, data, options) {
    throwIfAborted(options?.signal)
    // `data` is often a Node Buffer that the packer reuses for its next pack as soon as this promise
    // resolves. Buffer's .slice() and .subarray() do NOT copy: keep a copy made with Uint8Array.from
    // (or Buffer.from(data)), never data.slice().
    this.files.set(this.key(type, id), Uint8Array.from(data))
  }

  async remove(type, id, _cacheable, options) {
    throwIfAborted(options?.signal)
    if (!this.files.delete(this.key(type, id))) throw new BackendError('NotFound', `cannot remove ${type} ${id}: not found in ${this.location()}`)
  }

  async close() {}
}

// Run as a program: a repository on a MapBackend, a backup of this folder, one file read back.
if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const backends = { repository: new MapBackend() }
  const credentials = { password: 'example password' }
  await Repository.init({}, backends, credentials)
  const repo = await Repository.open({}, backends, credentials)
  const indexed = await repo.toIndexed()
  const folder = fileURLToPath(new URL('.', import.meta.url)).replace(/\/$/, '')
  const { snapshot } = await indexed.backup([folder], { tags: ['example'] })
  console.log(`snapshot ${shortId(snapshot.id)} of ${folder}: ${snapshot.summary.totalFilesProcessed} files in ${backends.repository.files.size} stored objects`)
  const { node } = await indexed.resolveSnapshotPath(`${snapshot.id}:${folder}/custom-backend.mjs`)
  let size = 0
  for await (const chunk of indexed.readFile(node)) size += chunk.length
  console.log(`read custom-backend.mjs back from the snapshot: ${size} bytes`)
  await repo.close()
}
