import { describe, expect, it } from 'vitest'
import { parseRequestPath } from '../src/parseRequestPath.js'

const ID = 'ab'.repeat(32)

describe('parseRequestPath', () => {
  it('splits repository paths of up to two names from the protocol part, as rest-server', () => {
    expect(parseRequestPath('/')).toEqual({ ok: true, target: { repo: [], resource: { kind: 'root' } } })
    expect(parseRequestPath('/config')).toEqual({ ok: true, target: { repo: [], resource: { kind: 'config' } } })
    expect(parseRequestPath('/a/')).toEqual({ ok: true, target: { repo: ['a'], resource: { kind: 'root' } } })
    expect(parseRequestPath('/a/b/keys/')).toEqual({ ok: true, target: { repo: ['a', 'b'], resource: { kind: 'dir', type: 'key' } } })
    expect(parseRequestPath(`/a/data/${ID}`)).toEqual({ ok: true, target: { repo: ['a'], resource: { kind: 'file', type: 'pack', id: ID } } })
    expect(parseRequestPath(`/snapshots/${ID}`)).toMatchObject({ ok: true, target: { repo: [], resource: { kind: 'file', type: 'snapshot' } } })
    // a percent-encoded plain name is decoded once
    expect(parseRequestPath('/my%20repo/config')).toMatchObject({ ok: true, target: { repo: ['my repo'] } })
  })

  it('answers 404 for paths that name nothing', () => {
    for (const p of ['/a', '/a/b/c/', '/a/b/c/config', '/keys', `/data/${ID.toUpperCase()}`, `/data/${ID}/`, '/data/x', '//config', '/a//config', '/conf']) {
      expect(parseRequestPath(p), p).toMatchObject({ ok: false, status: 404 })
    }
  })

  it('refuses traversal, hidden names, separators and control characters with 400', () => {
    for (const p of ['/../config', '/a/../config', '/%2e%2e/config', '/%2E%2e/keys/', '/a%2fb/config', '/a%5cb/config', '/.hidden/config', '/./config', '/a%00/config', '/%0a/config', '/%zz/config', 'config', `/${'x'.repeat(256)}/config`]) {
      expect(parseRequestPath(p), p).toMatchObject({ ok: false, status: 400 })
    }
  })
})
