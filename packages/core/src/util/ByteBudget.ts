/**
 * A memory budget shared by concurrent work: `acquire(n)` waits until `n` more bytes fit, then holds them
 * until `release(n)`. A request larger than the whole budget is let through when nothing else is held,
 * so one oversized item never blocks forever. Waiters are served in order.
 */
export class ByteBudget {
  private held = 0
  private readonly waiters: Array<{ n: number; go: () => void }> = []

  /** @param max - the budget in bytes. */
  constructor(private limit: number) {}

  /** The budget in bytes. */
  get max(): number {
    return this.limit
  }

  /** Changes the budget: what is held stays held; with a smaller budget, new requests wait until they fit. */
  resize(max: number): void {
    this.limit = max
    this.release(0)
  }

  /** Bytes held now. */
  get inUse(): number {
    return this.held
  }

  /** Waits until `n` bytes fit in the budget and takes them. */
  acquire(n: number): Promise<void> {
    if (this.waiters.length === 0 && this.fits(n)) {
      this.held += n
      return Promise.resolve()
    }
    return new Promise((resolve) => this.waiters.push({ n, go: resolve }))
  }

  /** Gives back `n` bytes and lets waiting requests in. */
  release(n: number): void {
    this.held -= n
    while (this.waiters.length > 0 && this.fits(this.waiters[0]!.n)) {
      const w = this.waiters.shift()!
      this.held += w.n
      w.go()
    }
  }

  private fits(n: number): boolean {
    return this.held === 0 || this.held + n <= this.limit
  }
}
