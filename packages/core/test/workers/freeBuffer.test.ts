import { expect, it } from 'vitest'
import { freeBuffer } from '../../src/workers/freeBuffer.js'

it('frees a whole buffer at once (it is left detached) and leaves views of other buffers alone', async () => {
  const whole = new Uint8Array(1 << 20).fill(7)
  const before = process.memoryUsage().arrayBuffers
  freeBuffer(whole)
  expect(whole.byteLength).toBe(0)
  expect(before - process.memoryUsage().arrayBuffers).toBeGreaterThanOrEqual(1 << 20)

  const shared = new Uint8Array(100).fill(1)
  const view = shared.subarray(10, 20)
  freeBuffer(view)
  expect(view.byteLength).toBe(10)
  const pooled = Buffer.from('pooled bytes') // a slice of Buffer's shared pool
  freeBuffer(pooled)
  expect(pooled.toString()).toBe('pooled bytes')
  const sab = new Uint8Array(new SharedArrayBuffer(16))
  freeBuffer(sab)
  expect(sab.byteLength).toBe(16)
})
