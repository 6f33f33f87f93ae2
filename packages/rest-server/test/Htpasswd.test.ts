import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { hashSync } from 'bcryptjs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { isRusticError } from '@rustic-ts/core'
import { Htpasswd } from '@rustic-ts/rest-server'
import { tempDir } from './helpers.js'

describe('Htpasswd', () => {
  let dir: { path: string; remove: () => Promise<void> }
  beforeAll(async () => {
    dir = await tempDir('htpasswd-')
  })
  afterAll(async () => {
    await dir.remove()
  })

  it('accepts bcrypt ($2y$ as htpasswd -B writes, $2a$, $2b$) and SHA ({SHA} as htpasswd -s) entries', async () => {
    const file = join(dir.path, 'a')
    const y = hashSync('pw-y', 4).replace(/^\$2b\$/, '$2y$')
    const a = hashSync('pw-a', 4).replace(/^\$2b\$/, '$2a$')
    await writeFile(
      file,
      ['# comment', '', `yuser:${y}`, `auser:${a}`, `buser:${hashSync('pw-b', 4)}`, 'suser:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', 'x.y@z-w_1:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g='].join('\n'),
    )
    const h = new Htpasswd(file)
    expect(h.size).toBe(5)
    expect(await h.verify('yuser', 'pw-y')).toBe(true)
    expect(await h.verify('auser', 'pw-a')).toBe(true)
    expect(await h.verify('buser', 'pw-b')).toBe(true)
    expect(await h.verify('suser', 'password')).toBe(true)
    expect(await h.verify('x.y@z-w_1', 'password')).toBe(true)
    // wrong passwords fail, also right after the right one was remembered
    expect(await h.verify('yuser', 'pw-y ')).toBe(false)
    expect(await h.verify('suser', 'Password')).toBe(false)
    expect(await h.verify('nobody', 'password')).toBe(false)
    expect(await h.verify('yuser', 'pw-y')).toBe(true)
  })

  it('skips invalid user names and unsupported hashes with a warning that never shows the hash', async () => {
    const file = join(dir.path, 'b')
    await writeFile(file, ['bad/name:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=', 'md5user:$apr1$abcdefgh$0123456789abcdefghijkl', 'plain:password', 'ok:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g='].join('\n'))
    const warnings: string[] = []
    const h = new Htpasswd(file, (m) => warnings.push(m))
    expect(h.size).toBe(1)
    expect(warnings).toHaveLength(3)
    expect(warnings[0]).toMatch(/line 1: skipped/)
    expect(warnings[1]).toMatch(/line 2: skipped user "md5user": unsupported hash format/)
    for (const w of warnings) expect(w).not.toMatch(/apr1|W6ph5|:password/)
    expect(await h.verify('plain', 'password')).toBe(false)
    expect(await h.verify('bad/name', 'password')).toBe(false)
  })

  it('reloads the file, and fails clearly when it cannot be read', async () => {
    const file = join(dir.path, 'c')
    await writeFile(file, 'one:{SHA}W6ph5Mm5Pz8GgiULbPgzG37mj9g=\n')
    const h = new Htpasswd(file)
    expect(await h.verify('one', 'password')).toBe(true)
    await writeFile(file, `two:${hashSync('second', 4)}\n`)
    h.reload()
    expect(await h.verify('one', 'password')).toBe(false)
    expect(await h.verify('two', 'second')).toBe(true)
    let err: unknown
    try {
      new Htpasswd(join(dir.path, 'missing'))
    } catch (e) {
      err = e
    }
    expect(isRusticError(err, 'HtpasswdUnreadable')).toBe(true)
    expect((err as Error).message).toMatch(/cannot read htpasswd file .*missing.*--no-auth.*ENOENT/)
  })
})
