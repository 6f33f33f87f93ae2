import { MessageChannel, type MessagePort } from 'node:worker_threads'

let sink: MessagePort | undefined

/**
 * Gives the memory of `data`'s `ArrayBuffer` back now, instead of at some later garbage collection: the
 * buffer is transferred into a message on a closed port, which drops the message (and the memory) at once,
 * and `data` is left detached (empty). Only for a buffer nothing else uses: `data` must be the whole of its
 * `ArrayBuffer` (else nothing is done). V8 collects dead buffers only once tens of MiB of them add up, and
 * large buffers freed late make glibc keep more memory; code that goes through many large buffers (pack
 * data, decrypted pieces) frees them as soon as they are done with.
 */
export function freeBuffer(data: Uint8Array): void {
  const buffer = data.buffer
  if (!(buffer instanceof ArrayBuffer) || data.byteOffset !== 0 || data.byteLength !== buffer.byteLength || buffer.byteLength === 0) return
  if (sink === undefined) {
    sink = new MessageChannel().port1
    sink.close()
  }
  try {
    sink.postMessage(null, [buffer])
  } catch {
    // not transferable (e.g. a pooled Buffer's memory): the collector frees it
  }
}
