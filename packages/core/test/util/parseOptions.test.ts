import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { parseOptions } from '../../src/util/parseOptions.js'
import { thrown } from '../error/thrown.js'

const Schema = z.object({
  count: z.number().int().positive().default(4),
  nested: z.object({ names: z.array(z.string()).default([]) }).optional(),
})

describe('parseOptions', () => {
  it('fills in defaults, also for missing input', () => {
    expect(parseOptions(Schema, { nested: {} }, 'test options')).toEqual({ count: 4, nested: { names: [] } })
    expect(parseOptions(Schema, undefined, 'test options')).toEqual({ count: 4 })
  })

  it('throws one InvalidOptions line naming the field path and the problem, with the ZodError as cause', () => {
    const e = thrown(() => parseOptions(Schema, { count: 'many', nested: { names: ['a', 2] } }, 'test options'))
    expect(e.kind).toBe('InvalidInput')
    expect(e.code).toBe('InvalidOptions')
    expect(e.message).toMatch(/^invalid test options: /)
    expect(e.message).toContain('count: expected number, received string')
    expect(e.message).toContain('nested.names[1]: expected string, received number')
    expect(e.message).not.toContain('\n')
    expect(e.cause).toBeInstanceOf(z.ZodError)
  })

  it('refuses unknown keys, and says where the control fields belong', () => {
    expect(thrown(() => parseOptions(Schema, { cuont: 1 }, 'test options')).message).toBe('invalid test options: unknown option "cuont"')
    expect(thrown(() => parseOptions(Schema, { signal: new AbortController().signal }, 'test options')).message).toBe(
      'invalid test options: "signal" belongs in the control argument (the last one), not in the options',
    )
  })
})
