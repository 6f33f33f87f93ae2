/**
 * The verify worker program (see `VerifyPool`): verifies packs for `check --read-data` as they come in
 * pieces, with the same `PackVerifier` as the main thread — the SHA-256 of the pack, its header against the
 * index, every blob opened, decompressed and hashed through small reused buffers — and answers each
 * piece once it is done with it.
 */
import { createHash, type Hash } from 'node:crypto'
import { BlobVerifier } from '../commands/check/BlobVerifier.js'
import { PackVerifier } from '../commands/check/PackVerifier.js'
import { nativeZstdBuffers } from '../compression/Zstd.js'
import { Key, type MasterKeyJson } from '../crypto/Key.js'
import { poly1305Provider } from '../crypto/Poly1305.js'
import type { VerifyReply, VerifyWorkerData, VerifyWorkerIn } from './verify.protocol.js'
import { freeBuffer } from './freeBuffer.js'
import { workerPort } from './workerPort.js'

const port = workerPort<VerifyWorkerIn, VerifyReply, VerifyWorkerData>()

/** The key and the blob opener made with it: from the start, or from the first message for a worker started before the key was known. */
let keyed: { key: Key; opener: BlobVerifier } | undefined

function takeKey(json: MasterKeyJson): void {
  const key = Key.fromMasterKeyJson(json)
  json.encrypt = json.mac.k = json.mac.r = ''
  // zstd-napi's streaming zstd where it loads; else each compressed blob is decompressed whole by the provider in use
  keyed = { key, opener: new BlobVerifier(key) }
}
if (port.data.key) takeKey(port.data.key)
else {
  // started ahead of the key (while it is derived): load the native modules meanwhile
  poly1305Provider()
  nativeZstdBuffers()
}

/** The packs being verified, with their tails. */
const streams = new Map<number, { verifier: PackVerifier; tail: Uint8Array }>()

function stream(id: number): PackVerifier {
  const s = streams.get(id)
  if (s === undefined) throw new Error(`no pack stream ${id}`)
  return s.verifier
}

/** Forgets a stream, freeing its tail. */
function drop(id: number): void {
  const s = streams.get(id)
  if (s === undefined) return
  streams.delete(id)
  freeBuffer(s.tail)
}

/** The hash streams (packs hashed before the key is known), by stream id. */
const hashes = new Map<number, Hash>()

port.listen((m) => {
  if (m.type === 'key') return takeKey(m.key)
  if (m.type === 'drop') return drop(m.stream)
  const reply: VerifyReply = { id: m.id }
  if (m.type === 'hash') {
    let hash = hashes.get(m.stream)
    if (hash === undefined) hashes.set(m.stream, (hash = createHash('sha256')))
    hash.update(m.data)
    freeBuffer(m.data)
    if (m.last) {
      hashes.delete(m.stream)
      reply.digest = hash.digest('hex')
    }
    return port.post(reply)
  }
  try {
    if (m.type === 'begin') {
      if (keyed === undefined) throw new Error('no key was given')
      const { key, opener } = keyed
      streams.set(m.stream, { verifier: new PackVerifier(key, m.packId, m.size, m.blobs, m.tailStart, m.tail, opener, m.hashed), tail: m.tail })
    } else if (m.type === 'piece') {
      // the piece is checked and hashed: its memory goes back at once
      stream(m.stream).push(m.data)
      freeBuffer(m.data)
    } else {
      reply.verification = stream(m.stream).finish()
      drop(m.stream)
    }
  } catch (e) {
    drop(m.stream)
    reply.error = e instanceof Error ? e.message : String(e)
  }
  port.post(reply)
})
