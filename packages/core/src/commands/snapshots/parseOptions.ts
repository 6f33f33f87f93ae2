import type { z } from 'zod'
import { RusticError } from '../../error/RusticError.js'

/**
 * Validates an options object against its schema and fills in the defaults; invalid input throws a
 * `RusticError` (`InvalidInput`, code `InvalidOptions`) naming each bad field, never a raw `ZodError`.
 * @param what - names the options in the message (`forget options`).
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = schema.safeParse(input ?? {})
  if (parsed.success) return parsed.data as z.output<S>
  const issues = parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message))
  throw new RusticError('InvalidInput', `invalid ${what}: ${issues.join('; ')}`, { code: 'InvalidOptions', cause: parsed.error })
}
