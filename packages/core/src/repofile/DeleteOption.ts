import { z } from 'zod'
import { GoTimeSchema } from './GoTimeSchema.js'

/**
 * rustic's deletion mark of a snapshot: `never` (protected from `forget`) or `after` a time (kept
 * until then). JSON: `"Never"` or `{"After":"<RFC 3339 time>"}`; absent = not set.
 */
export type DeleteOption = { kind: 'never' } | { kind: 'after'; time: string }

/** zod schema of the JSON of a {@link DeleteOption}; `"NotSet"` (rustic's default) parses to `undefined`. */
export const DeleteOptionSchema = z
  .union([z.literal('Never'), z.literal('NotSet'), z.object({ After: GoTimeSchema })])
  .transform((v): DeleteOption | undefined =>
    v === 'Never' ? { kind: 'never' } : v === 'NotSet' ? undefined : { kind: 'after', time: v.After },
  )

/** The JSON value of a {@link DeleteOption}. */
export function deleteOptionToJson(d: DeleteOption): 'Never' | { After: string } {
  return d.kind === 'never' ? 'Never' : { After: d.time }
}
