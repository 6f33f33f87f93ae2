/** A small least-recently-used map with a budget in "cost" units (entries or bytes). */
export class LruCache<K, V> {
  private readonly map = new Map<K, { value: V; cost: number }>()
  private total = 0

  constructor(
    /** The budget. */
    readonly maxCost: number,
    /** Cost of one value (default 1: the budget counts entries). */
    private readonly costOf: (value: V) => number = () => 1,
  ) {}

  /** The value for `key`, marking it most recently used. */
  get(key: K): V | undefined {
    const e = this.map.get(key)
    if (!e) return undefined
    this.map.delete(key)
    this.map.set(key, e)
    return e.value
  }

  /** True if `key` is held (does not change recency). */
  has(key: K): boolean {
    return this.map.has(key)
  }

  /**
   * Stores a value as the most recently used, evicting the least recently used ones over budget.
   * Returns false, keeping nothing, for a value costlier than the whole budget.
   */
  set(key: K, value: V): boolean {
    this.delete(key)
    const cost = this.costOf(value)
    if (cost > this.maxCost) return false
    this.map.set(key, { value, cost })
    this.total += cost
    for (const [k, e] of this.map) {
      if (this.total <= this.maxCost) break
      this.map.delete(k)
      this.total -= e.cost
    }
    return true
  }

  /** Removes a value; true if there was one. */
  delete(key: K): boolean {
    const e = this.map.get(key)
    if (!e) return false
    this.map.delete(key)
    this.total -= e.cost
    return true
  }

  /** Keys from least to most recently used. */
  keys(): IterableIterator<K> {
    return this.map.keys()
  }

  /** Removes everything. */
  clear(): void {
    this.map.clear()
    this.total = 0
  }

  /** Total cost of the values held. */
  get cost(): number {
    return this.total
  }

  /** Number of values held. */
  get size(): number {
    return this.map.size
  }
}
