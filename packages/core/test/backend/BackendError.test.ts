import { describe, expect, it, vi } from 'vitest'
import { BackendError, isBackendError, isNotFound } from '../../src/backend/BackendError.js'
import { isRusticError, RusticError } from '../../src/error/RusticError.js'

describe('BackendError', () => {
  it('is a RusticError whose code is its backend kind', () => {
    const e = new BackendError('NotFound', 'no such file')
    expect(e).toBeInstanceOf(RusticError)
    expect(isRusticError(e, 'NotFound')).toBe(true)
    expect(isBackendError(e, 'NotFound')).toBe(true)
    expect(isBackendError(e, 'Network')).toBe(false)
    expect(isNotFound(e)).toBe(true)
    expect(new BackendError('Network', 'down').isTransient).toBe(true)
    expect(isBackendError(new RusticError('Backend', 'not a backend error'))).toBe(false)
  })

  it('is recognised across two copies of the library (a backend built against another core)', async () => {
    vi.resetModules()
    const other = await import('../../src/backend/BackendError.js')
    expect(other.BackendError).not.toBe(BackendError)
    const foreign = new other.BackendError('NotFound', 'missing')
    expect(foreign instanceof BackendError).toBe(false)
    expect(isBackendError(foreign, 'NotFound')).toBe(true)
    expect(isNotFound(foreign)).toBe(true)
    expect(isRusticError(foreign, 'NotFound')).toBe(true)
  })
})
