// Token buckets kept in this process: the limiter's answer when no Redis is configured or Redis does not answer in time.

/** One bucket to take a token from: `rate` tokens per second refill it, up to `burst`. */
export interface BucketSpec {
  readonly key: string
  readonly rate: number
  readonly burst: number
}

interface Bucket {
  tokens: number
  at: number
}

// Bounds memory against a flood of distinct logins or addresses; the oldest-touched buckets go first.
const MAX_BUCKETS = 100_000

export class LocalTokenBuckets {
  readonly #buckets = new Map<string, Bucket>()
  readonly #now: () => number

  constructor(now: () => number = performance.now.bind(performance)) {
    this.#now = now
  }

  /**
   * Takes one token from every bucket, or from none: 0 when taken, else the milliseconds until all
   * of them hold a token again (the Retry-After).
   */
  take(specs: readonly BucketSpec[]): number {
    const now = this.#now()
    let waitMs = 0
    const levels: number[] = []
    for (const spec of specs) {
      const bucket = this.#buckets.get(spec.key)
      const tokens = bucket === undefined ? spec.burst : Math.min(spec.burst, bucket.tokens + ((now - bucket.at) * spec.rate) / 1000)
      if (tokens < 1) waitMs = Math.max(waitMs, Math.ceil(((1 - tokens) * 1000) / spec.rate))
      levels.push(tokens)
    }
    if (waitMs > 0) return waitMs
    for (let i = 0; i < specs.length; i++) {
      const key = specs[i]!.key
      this.#buckets.delete(key)
      if (this.#buckets.size >= MAX_BUCKETS) this.#buckets.delete(this.#buckets.keys().next().value!)
      this.#buckets.set(key, { tokens: levels[i]! - 1, at: now })
    }
    return 0
  }

  get size(): number {
    return this.#buckets.size
  }
}
