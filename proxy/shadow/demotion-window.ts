// Per route, the last `window` comparisons (mismatch or not, legacy and fast latency), and the rule
// that switches a route off: more mismatches than allowed, or the fast path's p99 above the
// legacy's once enough comparisons were seen.
export interface DemotionRules {
  readonly window: number
  /** Mismatches tolerated in the window; one more demotes (default 0: any mismatch). */
  readonly maxMismatches: number
  /** Comparisons needed before the p99s are compared; 0 switches the latency rule off. */
  readonly latencyMinSamples: number
}

export class DemotionWindow {
  readonly #rules: DemotionRules
  readonly #mismatch: Uint8Array
  readonly #legacyMs: Float64Array
  readonly #fastMs: Float64Array
  #next = 0
  #count = 0
  #mismatches = 0
  #sinceLatencyCheck = 0

  constructor(rules: DemotionRules) {
    this.#rules = rules
    this.#mismatch = new Uint8Array(rules.window)
    this.#legacyMs = new Float64Array(rules.window)
    this.#fastMs = new Float64Array(rules.window)
  }

  get count(): number {
    return this.#count
  }

  /** Adds one comparison (a race counts for latency, not as a mismatch); returns a reason to demote, or undefined. */
  add(mismatch: boolean, legacyMs: number, fastMs: number): string | undefined {
    const size = this.#rules.window
    if (this.#count === size) this.#mismatches -= this.#mismatch[this.#next]!
    else this.#count++
    this.#mismatch[this.#next] = mismatch ? 1 : 0
    this.#legacyMs[this.#next] = legacyMs
    this.#fastMs[this.#next] = fastMs
    this.#next = (this.#next + 1) % size
    if (mismatch) this.#mismatches++
    if (this.#mismatches > this.#rules.maxMismatches) {
      return `${this.#mismatches} mismatch${this.#mismatches === 1 ? '' : 'es'} in the last ${this.#count} comparisons (allowed: ${this.#rules.maxMismatches} in ${size})`
    }
    const min = this.#rules.latencyMinSamples
    // Sorting the window costs; every 1/20 of the window is often enough for a p99.
    if (min === 0 || this.#count < min || ++this.#sinceLatencyCheck < Math.max(1, Math.floor(size / 20))) return undefined
    this.#sinceLatencyCheck = 0
    const fastP99 = p99(this.#fastMs, this.#count)
    const legacyP99 = p99(this.#legacyMs, this.#count)
    if (fastP99 > legacyP99) return `fast p99 ${fastP99.toFixed(1)} ms above the legacy's ${legacyP99.toFixed(1)} ms over the last ${this.#count} comparisons`
    return undefined
  }

  reset(): void {
    this.#next = 0
    this.#count = 0
    this.#mismatches = 0
    this.#sinceLatencyCheck = 0
  }
}

/** Nearest-rank p99 of the first `count` values. */
export function p99(values: Float64Array, count: number): number {
  const sorted = values.slice(0, count).sort()
  return sorted[Math.max(0, Math.ceil(count * 0.99) - 1)]!
}
