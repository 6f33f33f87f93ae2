import { createRequire } from 'node:module'
import { noProgress, type Progress, type ProgressFactory, type ProgressKind } from '@rustic-ts/core'

/** Frames of the spinner shown while the total is not known yet. */
const SPINNER = ['|', '/', '-', '\\']
/** Width of the bar, in characters. */
const BAR_WIDTH = 30

/** What one progress line shows. */
interface LineState {
  kind: ProgressKind
  title: string
  value: number
  /** The total, once the work has said it (`setLength`); never guessed. */
  total: number | undefined
  start: number
}

/**
 * One progress line: with a known total a bar, the percentage and `done/total`; before the total is known
 * (or for a spinner) a spinner and the count so far, never a made-up total.
 */
export function progressLine(s: LineState, now = Date.now()): string {
  const bytes = s.kind === 'bytes'
  const done = bytes ? humanBytes(s.value) : String(s.value)
  const speed = bytes ? ` ${humanBytes((s.value * 1000) / Math.max(1, now - s.start))}/s` : ''
  if (s.total === undefined || s.kind === 'spinner') {
    const frame = SPINNER[Math.floor((now - s.start) / 100) % SPINNER.length]!
    return `${s.title} ${frame} ${done}${speed}`
  }
  const fraction = s.total > 0 ? Math.min(1, s.value / s.total) : 1
  const filled = Math.round(fraction * BAR_WIDTH)
  const bar = '#'.repeat(filled) + '-'.repeat(BAR_WIDTH - filled)
  const total = bytes ? humanBytes(s.total) : String(s.total)
  return `${s.title} [${bar}] ${Math.floor(fraction * 100)}% ${done}/${total}${speed}`
}

/** A progress factory drawing bars on stderr with cli-progress, or a silent one when stderr is not a TTY or progress is off. */
export function progressBars(enabled: boolean): ProgressFactory {
  if (!enabled || !process.stderr.isTTY) return noProgress
  // Loaded only when bars are drawn: most runs (pipes, --no-progress, --json) never need it.
  const cliProgress = createRequire(import.meta.url)('cli-progress') as typeof import('cli-progress')
  return (kind: ProgressKind, title: string): Progress => {
    const state: LineState = { kind, title, value: 0, total: undefined, start: Date.now() }
    const bar = new cliProgress.SingleBar({
      format: () => progressLine(state),
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      // redraw for the spinner even when nothing is counted
      noTTYOutput: false,
      fps: 10,
    })
    bar.start(0, 0)
    return {
      setLength: (n) => {
        state.total = n
        bar.update(state.value)
      },
      setTitle: (t) => {
        state.title = t
        bar.update(state.value)
      },
      inc: (n) => {
        state.value += n
        bar.update(state.value)
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
