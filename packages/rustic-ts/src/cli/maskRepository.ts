/** What a masked secret prints as. */
export const MASK = '***'

/** A repository string with the password of its URL masked (`rest:http://user:***@host/`), for output. */
export function maskRepository(repo: string): string {
  return repo.replace(/^((?:rest:)?[a-z][a-z0-9+.-]*:\/\/[^/:@]*:)[^/@]*@/i, `$1${MASK}@`)
}
