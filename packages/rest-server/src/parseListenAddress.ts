import { RusticError } from '@rustic-ts/core'

/**
 * Splits a listen address as rest-server's `--listen` takes it: `HOST:PORT`, `:PORT` (all interfaces),
 * `[IPv6]:PORT`, or a bare `PORT`. Port 0 picks a free port.
 * @throws RusticError `Configuration` (code `InvalidOptions`) for anything else.
 */
export function parseListenAddress(address: string): { host: string | undefined; port: number } {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^:[\]\s]*)):(\d{1,5})$/.exec(address.trim()) ?? /^()()(\d{1,5})$/.exec(address.trim())
  const port = m ? Number(m[3]) : NaN
  if (!m || port > 65535) {
    throw new RusticError('Configuration', `invalid listen address "${address}": use HOST:PORT, :PORT or [IPv6]:PORT`, {
      code: 'InvalidOptions',
    })
  }
  const host = m[1] || m[2] || undefined
  return { host, port }
}
