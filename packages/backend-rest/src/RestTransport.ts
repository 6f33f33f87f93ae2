/** The HTTP methods the restic REST protocol uses. */
export type RestMethod = 'GET' | 'HEAD' | 'POST' | 'DELETE'

/** One request of the restic REST protocol, relative to the repository's base URL. */
export interface RestRequest {
  /** The HTTP method. */
  method: RestMethod
  /** Path relative to the base URL, without a leading `/` (e.g. `keys/<id>`, `data/`, `?create=true`). */
  path: string
  /** Extra request headers (lower-case names). */
  headers?: Record<string, string>
  /** The request body (for `POST`). Its length is sent as `Content-Length`. */
  body?: Uint8Array
  /** Aborts the request. */
  signal?: AbortSignal
}

/** The answer to a {@link RestRequest}, body fully received. */
export interface RestResponse {
  /** HTTP status code. */
  status: number
  /** Response headers, lower-case names. */
  headers: Record<string, string | undefined>
  /** The whole response body (empty for `HEAD`). */
  body: Uint8Array
}

/**
 * Carries restic REST requests to a server: HTTP/1.1 over TCP/TLS ({@link UndiciTransport}),
 * HTTP/2 over a child process's pipes (the rclone backend), or anything else.
 * Implementations must be safe for many concurrent requests. Network failures are thrown as they
 * are (the caller maps them to `BackendError`s); an abort rejects with the signal's reason or an
 * `AbortError`.
 */
export interface RestTransport {
  /** Sends a request and receives the whole response. */
  request(req: RestRequest): Promise<RestResponse>
  /** Releases connections (and processes). The transport may be used again afterwards. */
  close(): Promise<void>
}
