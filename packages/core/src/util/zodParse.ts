import { z } from 'zod'

/**
 * A zod transform step that reads a string (or another input, e.g. a string or a number) with `parse`:
 * a thrown error becomes a zod issue with its message, so an options parser reports it under the
 * field's name instead of throwing from inside zod.
 */
export function zodParse<T, I = string>(parse: (text: I) => T): (text: I, ctx: z.RefinementCtx) => T | typeof z.NEVER {
  return (text, ctx) => {
    try {
      return parse(text)
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message })
      return z.NEVER
    }
  }
}
