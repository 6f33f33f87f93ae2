import { describe, expect, it, vi } from 'vitest'
import { ERROR_CODES, isRusticError, RusticError, toErrorCode } from '../../src/error/RusticError.js'

/** A second, separate copy of the error module, as a program with two versions of core has. */
async function otherCopy(): Promise<typeof import('../../src/error/RusticError.js')> {
  vi.resetModules()
  return import('../../src/error/RusticError.js')
}

describe('RusticError', () => {
  it('takes its kind as code when made without one', () => {
    const e = new RusticError('Configuration', 'bad')
    expect(e.code).toBe('Configuration')
    expect(Object.hasOwn(ERROR_CODES, e.code)).toBe(true)
  })

  it('is recognised by isRusticError, with or without a code, and by instanceof', () => {
    const e = new RusticError('Credentials', 'wrong password', { code: 'IncorrectPassword' })
    expect(e).toBeInstanceOf(RusticError)
    expect(isRusticError(e)).toBe(true)
    expect(isRusticError(e, 'IncorrectPassword')).toBe(true)
    expect(isRusticError(e, 'NoPassword')).toBe(false)
    expect(isRusticError(new Error('plain'))).toBe(false)
    expect(isRusticError(Object.assign(new Error('look-alike'), { kind: 'Credentials', code: 'IncorrectPassword' }))).toBe(false)
    expect(isRusticError('IncorrectPassword')).toBe(false)
  })

  it('is recognised across two copies of the library', async () => {
    const other = await otherCopy()
    expect(other.RusticError).not.toBe(RusticError)
    const foreign = new other.RusticError('Repository', 'no repository', { code: 'RepositoryNotFound' })
    expect(foreign instanceof RusticError).toBe(false)
    expect(isRusticError(foreign, 'RepositoryNotFound')).toBe(true)
    expect(other.isRusticError(new RusticError('Internal', 'x'))).toBe(true)
  })

  it('toErrorCode keeps listed codes and errno codes, and falls back for anything else', () => {
    expect(toErrorCode('MacMismatch', 'Internal')).toBe('MacMismatch')
    expect(toErrorCode('ENOENT', 'InputOutput')).toBe('ENOENT')
    expect(toErrorCode('no such code', 'InputOutput')).toBe('InputOutput')
    expect(toErrorCode(undefined, 'ReadFailed')).toBe('ReadFailed')
  })
})
