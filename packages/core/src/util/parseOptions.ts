import { z } from 'zod'
import { RusticError } from '../error/RusticError.js'

/** The fields of the control object (`Control`), which never belong in an options object. */
const CONTROL_FIELDS = new Set(['signal', 'progress', 'onWarning'])

/** Strict copies of object schemas (unknown keys are errors), made once per schema. */
const strictCopies = new WeakMap<z.ZodType, z.ZodType>()

function strict(schema: z.ZodType): z.ZodType {
  if (!(schema instanceof z.ZodObject)) return schema
  let s = strictCopies.get(schema)
  if (!s) strictCopies.set(schema, (s = schema.strict()))
  return s
}

/** `local.excludes[0]` from a zod issue path. */
function fieldPath(path: ReadonlyArray<PropertyKey>): string {
  let out = ''
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out === '' ? String(p) : `.${String(p)}`
  return out
}

function describeIssue(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') {
    const where = issue.path.length > 0 ? ` in ${fieldPath(issue.path)}` : ''
    return issue.keys
      .map((k) =>
        issue.path.length === 0 && CONTROL_FIELDS.has(k)
          ? `"${k}" belongs in the control argument (the last one), not in the options`
          : `unknown option "${k}"${where}`,
      )
      .join('; ')
  }
  const message = issue.message.replace(/^Invalid input: /, '')
  return issue.path.length > 0 ? `${fieldPath(issue.path)}: ${message}` : message
}

/**
 * Validates an options object against its schema and fills in the defaults. Unknown top-level keys are
 * refused. Invalid input throws a `RusticError` (`InvalidInput`, code `InvalidOptions`) with one line
 * naming each bad field and its problem, e.g. `invalid restore options: readConcurrency: expected
 * number, received string`; the `ZodError` is its cause.
 * @param what - names the options in the message (`restore options`).
 */
export function parseOptions<S extends z.ZodType>(schema: S, input: unknown, what: string): z.output<S> {
  const parsed = strict(schema).safeParse(input ?? {})
  if (parsed.success) return parsed.data as z.output<S>
  throw new RusticError('InvalidInput', `invalid ${what}: ${parsed.error.issues.map(describeIssue).join('; ')}`, {
    code: 'InvalidOptions',
    cause: parsed.error,
  })
}
