/** A progress indicator for one piece of long work (rustic_core's progress shape). */
export interface Progress {
  /** Sets the total (items or bytes). */
  setLength(length: number): void
  /** Changes the title. */
  setTitle(title: string): void
  /** Adds `n` done. */
  inc(n: number): void
  /** Ends the indicator. */
  finish(): void
}

/** The kinds of progress indicator. */
export type ProgressKind = 'spinner' | 'counter' | 'bytes'

/** Creates progress indicators; pass one in options to see progress. The default is silent. */
export type ProgressFactory = (kind: ProgressKind, title: string) => Progress

/** Receives warnings (a skipped unreadable file, a cache problem). */
export type WarningHandler = (message: string, error?: unknown) => void

/** A progress indicator that does nothing. */
export const NO_PROGRESS: Progress = {
  setLength() {},
  setTitle() {},
  inc() {},
  finish() {},
}

/** A progress factory that returns {@link NO_PROGRESS}. */
export const noProgress: ProgressFactory = () => NO_PROGRESS
