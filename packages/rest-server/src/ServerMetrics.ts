import { Counter, Registry } from 'prom-client'

/** What happened to a file, for {@link ServerMetrics.count}. */
export type FileOperation = 'read' | 'write' | 'delete'

/**
 * Prometheus metrics with rest-server's names: `rest_server_blob_{read,write,delete}_total` and
 * `rest_server_blob_{read,write,delete}_bytes_total`, labelled by `user`, `repo` and `type` (the REST
 * directory: `data`, `keys`, ..., `config`). Each server has its own registry.
 */
export class ServerMetrics {
  /** The registry holding the metrics (served as text on `/metrics`). */
  readonly registry = new Registry()
  private readonly counters: Record<FileOperation, { files: Counter; bytes: Counter }>

  constructor() {
    const labelNames = ['user', 'repo', 'type'] as const
    const make = (op: FileOperation, past: string): { files: Counter; bytes: Counter } => ({
      files: new Counter({ name: `rest_server_blob_${op}_total`, help: `Total number of blobs ${past}`, labelNames, registers: [this.registry] }),
      bytes: new Counter({
        name: `rest_server_blob_${op}_bytes_total`,
        help: `Total number of bytes ${past === 'deleted' ? 'of blobs deleted' : `${past} ${op === 'read' ? 'from' : 'to'} blobs`}`,
        labelNames,
        registers: [this.registry],
      }),
    })
    this.counters = { read: make('read', 'read'), write: make('write', 'written'), delete: make('delete', 'deleted') }
  }

  /** Counts one file operation of `bytes` bytes. */
  count(op: FileOperation, labels: { user: string; repo: string; type: string }, bytes: number): void {
    this.counters[op].files.inc(labels)
    this.counters[op].bytes.inc(labels, bytes)
  }

  /** The metrics in Prometheus' text format, and its content type. */
  async render(): Promise<{ contentType: string; text: string }> {
    return { contentType: this.registry.contentType, text: await this.registry.metrics() }
  }
}
