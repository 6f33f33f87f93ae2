import { describe, expect, it } from 'vitest'
import { parseListenAddress } from '@rustic-ts/rest-server'

describe('parseListenAddress', () => {
  it("reads rest-server's --listen forms", () => {
    expect(parseListenAddress(':8000')).toEqual({ host: undefined, port: 8000 })
    expect(parseListenAddress('127.0.0.1:0')).toEqual({ host: '127.0.0.1', port: 0 })
    expect(parseListenAddress('localhost:8080')).toEqual({ host: 'localhost', port: 8080 })
    expect(parseListenAddress('[::1]:8000')).toEqual({ host: '::1', port: 8000 })
    expect(parseListenAddress('9000')).toEqual({ host: undefined, port: 9000 })
  })

  it('refuses anything else with a message naming the address', () => {
    for (const bad of ['', 'host', 'host:', ':65536', '::1:8000', 'a b:80', 'http://x:80']) {
      expect(() => parseListenAddress(bad), bad).toThrow(`invalid listen address "${bad}"`)
    }
  })
})
