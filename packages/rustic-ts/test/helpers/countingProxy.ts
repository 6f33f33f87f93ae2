import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

/** One request the proxy forwarded. */
export interface ProxiedRequest {
  method: string
  /** The path, e.g. `/snapshots/0123...` or `/data/` (a listing). */
  path: string
  status: number
}

/** An HTTP proxy on 127.0.0.1 in front of a REST server, recording every request. */
export interface CountingProxy {
  /** `http://127.0.0.1:PORT/` */
  url: string
  /** Every request so far, in order of their answers. */
  requests: ProxiedRequest[]
  /** GETs of files (not listings), optionally only below `dir` (e.g. `snapshots`, `data`, `index`). */
  fileReads(dir?: string): ProxiedRequest[]
  /** Forgets the recorded requests. */
  reset(): void
  stop(): Promise<void>
}

/**
 * Starts a plain HTTP/1.1 forwarding proxy on a free port of 127.0.0.1 in front of `target`
 * (`http://host:port/`), recording method, path and status of every request: a test's request counter.
 */
export async function startCountingProxy(target: string): Promise<CountingProxy> {
  const t = new URL(target)
  const requests: ProxiedRequest[] = []
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const up = request(
      { host: t.hostname, port: t.port, method: req.method, path: req.url, headers: req.headers },
      (upRes) => {
        requests.push({ method: req.method ?? '', path: (req.url ?? '').split('?')[0]!, status: upRes.statusCode ?? 0 })
        res.writeHead(upRes.statusCode ?? 502, upRes.headers)
        upRes.pipe(res)
      },
    )
    up.on('error', (err) => {
      res.destroy(err)
    })
    req.pipe(up)
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `http://127.0.0.1:${port}/`,
    requests,
    fileReads: (dir) =>
      requests.filter(
        (r) => r.method === 'GET' && !r.path.endsWith('/') && (dir === undefined || r.path.startsWith(`/${dir}/`) || r.path === `/${dir}`),
      ),
    reset: () => {
      requests.length = 0
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
}
