import { z } from 'zod'
import { PROFILE_FIELDS, type ProfileField, type ProfileFields } from './ProfileSchema.js'
import type { ProfileSettings } from './readProfileFile.js'

/**
 * Merges two profiles' settings, `over` winning: tables are merged key by key (`[global.env]`,
 * `[repository.options]` too), a value or an array given in `over` replaces the one of `base`, and the
 * `[[backup.snapshots]]` entries of both are kept, an entry of `over` replacing the one of `base` with the
 * same `name` and `sources`.
 */
export function mergeProfileSettings(base: ProfileSettings, over: ProfileSettings, fields: ProfileFields = PROFILE_FIELDS): ProfileSettings {
  const out: ProfileSettings = { ...base }
  // credentials are one setting: a later password-file replaces an earlier password
  if (CREDENTIAL_KEYS.some((k) => k in over)) for (const k of CREDENTIAL_KEYS) delete out[k]
  for (const [key, value] of Object.entries(over)) {
    const field = fields[key]
    out[key] = key in base && field !== undefined ? mergeField(base[key], value, field) : value
  }
  return out
}

function mergeField(base: unknown, over: unknown, field: ProfileField): unknown {
  if (field instanceof z.ZodType) return over
  switch (field.kind) {
    case 'table':
      return mergeProfileSettings(base as ProfileSettings, over as ProfileSettings, field.fields)
    case 'map':
      return { ...(base as object), ...(over as object) }
    case 'tables': {
      const entries = [...(base as ProfileSettings[])]
      for (const entry of over as ProfileSettings[]) {
        const same = entries.findIndex((e) => entryKey(e) === entryKey(entry))
        if (same >= 0) entries[same] = entry
        else entries.push(entry)
      }
      return entries
    }
    case 'namesOrTables':
      return over
  }
}

/** The keys of `[repository]` that give the password: the last one given wins. */
export const CREDENTIAL_KEYS = ['password', 'passwordFile', 'passwordCommand'] as const

/** What identifies a `[[backup.snapshots]]` entry across profiles: its name and sources. */
function entryKey(entry: ProfileSettings): string {
  return JSON.stringify([entry['name'] ?? null, entry['sources'] ?? null])
}
