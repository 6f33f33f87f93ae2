import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { parseOptions } from '../util/parseOptions.js'

/** Options of {@link UserNames}. */
export const UserNamesOptionsSchema = z.object({
  /** The passwd file. */
  passwdFile: z.string().default('/etc/passwd'),
  /** The group file. */
  groupFile: z.string().default('/etc/group'),
})

/** Options of {@link UserNames} (input form: every field optional). */
export type UserNamesOptions = z.input<typeof UserNamesOptionsSchema>

interface Table {
  byId: Map<number, string>
  byName: Map<string, number>
}

async function loadTable(path: string): Promise<Table> {
  const table: Table = { byId: new Map(), byName: new Map() }
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch {
    return table // no such file (e.g. not Unix): no names
  }
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#') || line.startsWith('+') || line.startsWith('-')) continue
    const f = line.split(':')
    if (f.length < 3 || f[0] === '') continue
    const id = Number(f[2])
    if (!/^\d+$/.test(f[2]!) || id > 0xffffffff) continue
    // the first entry wins, as getpwuid/getgrgid return it
    if (!table.byId.has(id)) table.byId.set(id, f[0]!)
    if (!table.byName.has(f[0]!)) table.byName.set(f[0]!, id)
  }
  return table
}

/**
 * User and group names from `/etc/passwd` and `/etc/group` (Node has no `getpwuid`), read once and
 * cached: restic stores the owner's names in each node and restores ownership by name.
 */
export class UserNames {
  private readonly options: z.output<typeof UserNamesOptionsSchema>
  private users: Promise<Table> | undefined
  private groups: Promise<Table> | undefined

  constructor(options: UserNamesOptions = {}) {
    this.options = parseOptions(UserNamesOptionsSchema, options, 'user name options')
  }

  private userTable(): Promise<Table> {
    return (this.users ??= loadTable(this.options.passwdFile))
  }

  private groupTable(): Promise<Table> {
    return (this.groups ??= loadTable(this.options.groupFile))
  }

  /** The name of user `uid`, or `undefined` if it has none. */
  async userName(uid: number): Promise<string | undefined> {
    return (await this.userTable()).byId.get(uid)
  }

  /** The name of group `gid`, or `undefined` if it has none. */
  async groupName(gid: number): Promise<string | undefined> {
    return (await this.groupTable()).byId.get(gid)
  }

  /** The uid of user `name`, or `undefined` if there is no such user. */
  async uidOf(name: string): Promise<number | undefined> {
    return (await this.userTable()).byName.get(name)
  }

  /** The gid of group `name`, or `undefined` if there is no such group. */
  async gidOf(name: string): Promise<number | undefined> {
    return (await this.groupTable()).byName.get(name)
  }
}
