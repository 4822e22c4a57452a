// Counts failed logins per subject (a login from one address, a client address) in fixed windows; a subject
// that fails too often is blocked for a while, so guessing passwords through the proxy is slow.

interface Tally {
  count: number
  windowStart: number
  blockedUntil: number
}

export interface AuthFailureSettings {
  /** Failures within windowMs that start a block. */
  readonly maxFailures: number
  readonly windowMs: number
  readonly blockMs: number
}

const MAX_SUBJECTS = 50_000

export class AuthFailures {
  readonly #tallies = new Map<string, Tally>()
  readonly #settings: AuthFailureSettings
  readonly #now: () => number

  constructor(settings: AuthFailureSettings, now: () => number = Date.now) {
    this.#settings = settings
    this.#now = now
  }

  /** Records a failure; returns the failures counted when this one started a block, else 0. */
  failed(subject: string): number {
    const now = this.#now()
    let tally = this.#tallies.get(subject)
    if (tally === undefined) {
      if (this.#tallies.size >= MAX_SUBJECTS) this.#tallies.delete(this.#tallies.keys().next().value!)
      tally = { count: 0, windowStart: now, blockedUntil: 0 }
      this.#tallies.set(subject, tally)
    }
    if (now - tally.windowStart >= this.#settings.windowMs) {
      tally.count = 0
      tally.windowStart = now
    }
    tally.count++
    if (tally.count >= this.#settings.maxFailures && tally.blockedUntil <= now) {
      tally.blockedUntil = now + this.#settings.blockMs
      return tally.count
    }
    return 0
  }

  /** Milliseconds the subject stays blocked, or 0. */
  blockedFor(subject: string): number {
    const tally = this.#tallies.get(subject)
    if (tally === undefined) return 0
    const left = tally.blockedUntil - this.#now()
    return left > 0 ? left : 0
  }
}
