import { createRequire } from 'node:module'
import { noProgress, type Progress, type ProgressFactory, type ProgressKind } from '@rustic-ts/core'

/** A progress factory drawing bars on stderr with cli-progress, or a silent one when stderr is not a TTY or progress is off. */
export function progressBars(enabled: boolean): ProgressFactory {
  if (!enabled || !process.stderr.isTTY) return noProgress
  // Loaded only when bars are drawn: most runs (pipes, --no-progress, --json) never need it.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress')
  return (kind: ProgressKind, title: string): Progress => {
    const format =
      kind === 'bytes'
        ? '{title} [{bar}] {percentage}% {value_h}/{total_h} {speed}'
        : kind === 'counter'
          ? '{title} [{bar}] {value}/{total}'
          : '{title} {value}'
    const bar = new cliProgress.SingleBar(
      { format, stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 50 },
      cliProgress.Presets.shades_classic,
    )
    const start = Date.now()
    let value = 0
    const payload = (): Record<string, string> => ({
      title,
      value_h: humanBytes(value),
      total_h: humanBytes(bar.getTotal()),
      speed: `${humanBytes((value * 1000) / Math.max(1, Date.now() - start))}/s`,
    })
    bar.start(0, 0, payload())
    return {
      setLength: (n) => bar.setTotal(n),
      setTitle: (t) => {
        title = t
        bar.update(value, payload())
      },
      inc: (n) => {
        value += n
        bar.update(value, payload())
      },
      finish: () => bar.stop(),
    }
  }
}

/** Bytes in IEC units (`1.5 MiB`). */
export function humanBytes(n: number): string {
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
  let i = 0
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024
    i++
  }
  return i === 0 ? `${n} B` : `${n.toFixed(n < 10 ? 2 : 1)} ${units[i]}`
}
