import { constants } from 'node:http2'
import type { ClientHttp2Session, IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http2'
import pLimit from 'p-limit'
import type { RestRequest, RestResponse, RestTransport } from '@rustic-ts/backend-rest'

/** Options of {@link Http2Transport}. */
export interface Http2TransportOptions {
  /** Maximum number of streams in flight. */
  connections: number
  /** Idle timeout of a stream in ms. */
  timeoutMs: number
}

/**
 * restic REST requests as HTTP/2 streams on one existing client session (e.g. cleartext HTTP/2
 * over a child process's stdin/stdout). Paths are sent relative to `/`. Bodies are received whole;
 * the caller checks lengths. Closing the transport closes the session.
 */
export class Http2Transport implements RestTransport {
  private readonly limit: ReturnType<typeof pLimit>

  /**
   * @param session - a connected HTTP/2 client session.
   * @param options - stream concurrency and idle timeout.
   */
  constructor(
    private readonly session: ClientHttp2Session,
    private readonly options: Http2TransportOptions,
  ) {
    this.limit = pLimit(options.connections)
  }

  /** Sends one request as a stream and collects the answer. */
  request(req: RestRequest): Promise<RestResponse> {
    return this.limit(() => this.send(req))
  }

  /** Closes the session (after the streams in flight end). */
  async close(): Promise<void> {
    if (this.session.closed || this.session.destroyed) return
    await new Promise<void>((resolve) => this.session.close(resolve))
  }

  private send(req: RestRequest): Promise<RestResponse> {
    return new Promise<RestResponse>((resolve, reject) => {
      req.signal?.throwIfAborted()
      if (this.session.closed || this.session.destroyed) {
        throw Object.assign(new Error('the HTTP/2 session to rclone is closed'), { code: 'ERR_HTTP2_INVALID_SESSION' })
      }
      const headers: OutgoingHttpHeaders = {
        ':method': req.method,
        ':path': `/${req.path}`,
        ...req.headers,
      }
      if (req.body !== undefined) headers['content-length'] = req.body.length
      const stream = this.session.request(headers, {
        endStream: req.body === undefined,
        ...(req.signal !== undefined ? { signal: req.signal } : {}),
      })
      let settled = false
      let status = 0
      let resHeaders: IncomingHttpHeaders = {}
      const chunks: Buffer[] = []
      const fail = (err: unknown): void => {
        if (settled) return
        settled = true
        reject(err)
      }
      stream.setTimeout(this.options.timeoutMs, () => {
        fail(Object.assign(new Error(`no answer from rclone for ${this.options.timeoutMs} ms`), { code: 'ETIMEDOUT' }))
        stream.close(constants.NGHTTP2_CANCEL)
      })
      stream.on('response', (h) => {
        resHeaders = h
        status = Number(h[':status'])
      })
      stream.on('data', (c: Buffer) => chunks.push(c))
      stream.on('error', fail)
      stream.on('end', () => {
        if (settled) return
        if (status === 0) {
          fail(Object.assign(new Error('HTTP/2 stream to rclone ended without a response'), { code: 'ERR_HTTP2_STREAM_CLOSED' }))
          return
        }
        settled = true
        const out: Record<string, string | undefined> = {}
        for (const [k, v] of Object.entries(resHeaders)) {
          if (!k.startsWith(':')) out[k] = Array.isArray(v) ? v.join(', ') : v
        }
        const body = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
        resolve({ status, headers: out, body })
      })
      stream.on('close', () => {
        fail(
          Object.assign(new Error(`HTTP/2 stream to rclone closed early (code ${stream.rstCode ?? 'none'})`), {
            code: 'ERR_HTTP2_STREAM_CLOSED',
          }),
        )
      })
      if (req.body !== undefined) stream.end(req.body)
    })
  }
}
