// Shares the connections to the legacy fairly: at most `capacity` requests there at once, at most
// `perClient` of one client (a verified user, or a client address) in flight or waiting, and a
// bounded wait for a free one (then the caller is refused, never left hanging), and a part of the
// pool anonymous clients never get, so they cannot take every connection from verified users
// (docs/architecture.md invariant 7). Waiters are served first come, first served.

export interface UpstreamGateSettings {
  /** upstream.maxSockets: the agent never has to queue a request behind the gate. */
  readonly capacity: number
  readonly perClient: number
  readonly queueTimeoutMs: number
  /** Most slots clients that are not verified users hold together (the rest is kept for users). */
  readonly anonymousCapacity: number
}

/** Ends a request's hold on its slot (or its place in the queue); safe to call more than once. */
export type Leave = () => void

interface Waiter {
  readonly anonymous: boolean
  readonly admit: () => void
  timer: NodeJS.Timeout | undefined
}

export class UpstreamGate {
  readonly #settings: UpstreamGateSettings
  #inFlight = 0
  #anonymousInFlight = 0
  /** Per client: requests in flight plus those waiting. */
  readonly #held = new Map<string, number>()
  readonly #waiting = new Set<Waiter>()

  constructor(settings: UpstreamGateSettings) {
    this.#settings = settings
  }

  get inFlight(): number {
    return this.#inFlight
  }

  get waiting(): number {
    return this.#waiting.size
  }

  /**
   * `granted` once a slot is free (at once when one is; for an anonymous client, one in the part
   * anonymous clients may hold), or `refused` when the client already holds its share, the queue is
   * as long as the pool, or no slot freed within queueTimeoutMs. The Leave
   * returned ends the wait or gives the slot back, whichever applies.
   */
  enter(client: string, anonymous: boolean, granted: (leave: Leave) => void, refused: () => void): Leave {
    const held = this.#held.get(client) ?? 0
    if (held >= this.#settings.perClient || (!this.#fits(anonymous) && this.#waiting.size >= this.#settings.capacity)) {
      refused()
      return noop
    }
    this.#held.set(client, held + 1)
    let state: 'waiting' | 'in' | 'gone' = 'waiting'
    const leave: Leave = () => {
      if (state === 'gone') return
      if (state === 'waiting') {
        clearTimeout(waiter.timer)
        this.#waiting.delete(waiter)
      } else {
        this.#inFlight--
        if (anonymous) this.#anonymousInFlight--
      }
      state = 'gone'
      this.#drop(client)
      this.#admitNext()
    }
    const admit = () => {
      state = 'in'
      this.#inFlight++
      if (anonymous) this.#anonymousInFlight++
      granted(leave)
    }
    const waiter: Waiter = { anonymous, admit, timer: undefined }
    // No waiter fits (each leave admits those that do), so one that fits now is not passing anybody.
    if (this.#fits(anonymous)) {
      admit()
      return leave
    }
    waiter.timer = setTimeout(() => {
      if (state !== 'waiting') return
      this.#waiting.delete(waiter)
      state = 'gone'
      this.#drop(client)
      refused()
    }, this.#settings.queueTimeoutMs)
    this.#waiting.add(waiter)
    return leave
  }

  #drop(client: string): void {
    const held = (this.#held.get(client) ?? 1) - 1
    if (held <= 0) this.#held.delete(client)
    else this.#held.set(client, held)
  }

  #fits(anonymous: boolean): boolean {
    return this.#inFlight < this.#settings.capacity && (!anonymous || this.#anonymousInFlight < this.#settings.anonymousCapacity)
  }

  /** The first waiter that fits: a verified user passes anonymous waiters held by their part's cap. */
  #admitNext(): void {
    while (this.#inFlight < this.#settings.capacity) {
      let next: Waiter | undefined
      for (const waiter of this.#waiting) {
        if (this.#fits(waiter.anonymous)) {
          next = waiter
          break
        }
      }
      if (next === undefined) return
      this.#waiting.delete(next)
      clearTimeout(next.timer)
      next.admit()
    }
  }
}

function noop(): void {}
