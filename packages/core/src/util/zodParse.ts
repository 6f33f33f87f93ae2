import { z } from 'zod'

/**
 * A zod transform step that reads a string with `parse`: a thrown error becomes a zod issue with its
 * message, so an options parser reports it under the field's name instead of throwing from inside zod.
 */
export function zodParse<T>(parse: (text: string) => T): (text: string, ctx: z.RefinementCtx) => T | typeof z.NEVER {
  return (text, ctx) => {
    try {
      return parse(text)
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message })
      return z.NEVER
    }
  }
}
