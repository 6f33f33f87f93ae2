import type { Progress, ProgressKind } from '@rustic-ts/core/internal'

/** Records what a command does with its progress indicators. */
export function recorder(): { factory: (kind: ProgressKind, title: string) => Progress; events: string[]; done: Map<string, [number, number]> } {
  const events: string[] = []
  const done = new Map<string, [number, number]>()
  const factory = (_kind: ProgressKind, title: string): Progress => {
    events.push(`start ${title}`)
    done.set(title, [0, 0])
    return {
      setLength: (n) => void (done.get(title)![1] = n),
      setTitle: () => {},
      inc: (n) => void (done.get(title)![0] += n),
      finish: () => void events.push(`finish ${title}`),
    }
  }
  return { factory, events, done }
}
