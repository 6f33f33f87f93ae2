/**
 * The restore worker program (see `RestorePool`): runs each job with a {@link RangeRestorer} (opens the
 * blobs of a pack range, checks them and writes them to their places) and frees the range it was given.
 */
import { zstdBuffers } from '../compression/Zstd.js'
import { Key } from '../crypto/Key.js'
import { freeBuffer } from './freeBuffer.js'
import { RangeRestorer } from './RangeRestorer.js'
import type { RestoreReply, RestoreRequest, RestoreWorkerData } from './restore.protocol.js'
import { workerPort } from './workerPort.js'

const port = workerPort<RestoreRequest, RestoreReply, RestoreWorkerData>()
const key = Key.fromMasterKeyJson(port.data.key)
port.data.key.encrypt = port.data.key.mac.k = port.data.key.mac.r = ''
const zstd = zstdBuffers(port.data.zstd)
if (zstd === undefined) throw new Error(`the zstd provider ${port.data.zstd} cannot be loaded in the restore worker`)
// (the pool starts the worker with `gc` exposed)
const restorer = new RangeRestorer(key, zstd, globalThis.gc as ((options: { type: 'minor' }) => void) | undefined)

port.listen((m) => {
  const reply = restorer.run(m)
  if (!m.shared) freeBuffer(m.data)
  port.post(reply)
})
