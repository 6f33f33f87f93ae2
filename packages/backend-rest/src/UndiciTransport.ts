import { readFile } from 'node:fs/promises'
import { Agent, request } from 'undici'
import { RusticError } from '@rustic-ts/core'
import type { RestRequest, RestResponse, RestTransport } from './RestTransport.js'

/** Options of {@link UndiciTransport}. */
export interface UndiciTransportOptions {
  /** `Basic ...` sent with every request, if set. */
  authorization?: string
  /** Idle timeout in ms for response headers and for body bytes. */
  timeoutMs: number
  /** Timeout in ms for opening a connection. */
  connectTimeoutMs: number
  /** PEM file of CA certificates to trust. */
  caFile?: string
  /** Skip TLS certificate verification. */
  insecureTls: boolean
  /** Maximum number of connections. */
  connections: number
  /** How long in ms an idle connection is kept open. */
  keepAliveTimeoutMs: number
}

/**
 * HTTP/1.1 (TLS optional) transport on an undici `Agent`: connections are kept alive and reused,
 * at most `connections` at once. Credentials travel only in the `Authorization` header.
 */
export class UndiciTransport implements RestTransport {
  private agent: Promise<Agent> | undefined

  /**
   * @param baseUrl - the repository URL without credentials, path ending in `/`.
   * @param options - see {@link UndiciTransportOptions}.
   */
  constructor(
    private readonly baseUrl: URL,
    private readonly options: UndiciTransportOptions,
  ) {}

  /** Sends one request and reads the whole body. */
  async request(req: RestRequest): Promise<RestResponse> {
    const agent = await this.getAgent()
    const headers: Record<string, string> = { ...req.headers }
    if (this.options.authorization !== undefined) headers['authorization'] = this.options.authorization
    if (req.body !== undefined) headers['content-length'] = String(req.body.length)
    const res = await request(new URL(req.path, this.baseUrl), {
      dispatcher: agent,
      method: req.method,
      headers,
      body: req.body ?? null,
      signal: req.signal ?? null,
    })
    const body = req.method === 'HEAD' ? (await res.body.dump(), new Uint8Array(0)) : new Uint8Array(await res.body.arrayBuffer())
    const out: Record<string, string | undefined> = {}
    for (const [k, v] of Object.entries(res.headers)) out[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : v
    return { status: res.statusCode, headers: out, body }
  }

  /** Closes all connections; a later request opens new ones. */
  async close(): Promise<void> {
    const agent = this.agent
    this.agent = undefined
    if (agent === undefined) return
    try {
      await (await agent).close()
    } catch {
      // the agent never came up (e.g. unreadable CA file): nothing to close
    }
  }

  private getAgent(): Promise<Agent> {
    if (this.agent === undefined) {
      const made = this.makeAgent()
      this.agent = made
      made.catch(() => {
        if (this.agent === made) this.agent = undefined
      })
    }
    return this.agent
  }

  private async makeAgent(): Promise<Agent> {
    const o = this.options
    let ca: Buffer | undefined
    if (o.caFile !== undefined) {
      try {
        ca = await readFile(o.caFile)
      } catch (err) {
        throw new RusticError('Configuration', `cannot read the REST CA certificate file ${o.caFile}: ${(err as Error).message}`, {
          cause: err,
        })
      }
    }
    return new Agent({
      connections: o.connections,
      keepAliveTimeout: o.keepAliveTimeoutMs,
      headersTimeout: o.timeoutMs,
      bodyTimeout: o.timeoutMs,
      connect: {
        timeout: o.connectTimeoutMs,
        ...(ca !== undefined ? { ca } : {}),
        ...(o.insecureTls ? { rejectUnauthorized: false } : {}),
      },
    })
  }
}
