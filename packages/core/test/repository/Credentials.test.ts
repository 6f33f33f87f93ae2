import { describe, expect, it } from 'vitest'
import { isRusticError, resolvePassword } from '@rustic-ts/core/internal'

describe('resolvePassword', () => {
  it('a failing password command shows its exit status, never its output', async () => {
    const err = await resolvePassword({ passwordCommand: `sh -c 'echo TOP-SECRET; echo ALSO-SECRET >&2; exit 3'` }).catch((e: unknown) => e)
    expect(isRusticError(err, 'CommandFailed')).toBe(true)
    expect((err as Error).message).toBe('password command: "sh" exited with code 3')
    const killed = await resolvePassword({ passwordCommand: `sh -c 'echo SECRET >&2; kill -9 $$'` }).catch((e: unknown) => e)
    expect((killed as Error).message).toBe('password command: "sh" was killed by SIGKILL')
  })

  it('a password command prints the password', async () => {
    expect(await resolvePassword({ passwordCommand: `sh -c 'echo "  pw  "'` })).toBe('pw')
  })
})
