import { describe, expect, it } from 'vitest'
import { maskRepository } from '../../src/cli/maskRepository.js'

describe('maskRepository', () => {
  it("masks the password of a URL's user info and leaves everything else as it is", () => {
    expect(maskRepository('rest:https://me:s3cret@backup.example.org:8000/me/')).toBe('rest:https://me:***@backup.example.org:8000/me/')
    expect(maskRepository('https://me:s3cret@host/')).toBe('https://me:***@host/')
    expect(maskRepository('rest:https://me@host/')).toBe('rest:https://me@host/')
    expect(maskRepository('/srv/backups/a:b@c')).toBe('/srv/backups/a:b@c')
    expect(maskRepository('rclone:remote:path')).toBe('rclone:remote:path')
  })
})
