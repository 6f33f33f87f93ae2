import { describe, expect, it } from 'vitest'
import { deferredProgress } from '../../../src/commands/check/deferredProgress.js'
import { recorder } from './progressRecorder.js'

describe('deferredProgress', () => {
  it('counts until it is attached, then hands everything to the indicator', () => {
    const r = recorder()
    const p = deferredProgress()
    p.inc(5)
    p.setLength(99) // no indicator yet: nothing to set
    p.inc(7)
    p.attach(r.factory('bytes', 'x'))
    p.setLength(20)
    p.inc(8)
    p.finish()
    expect(r.done.get('x')).toEqual([20, 20])
    expect(r.events).toEqual(['start x', 'finish x'])
  })

})
