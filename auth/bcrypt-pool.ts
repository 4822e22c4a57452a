// BCrypt off the event loop. bcryptjs is JavaScript: a cost-10 comparison is ~70 ms of CPU, and its async
// form runs on the proxy's one thread in slices of up to 100 ms. When 200 users' verifications fell due
// together, the loop ran little but BCrypt for seconds and 1000 polling connections timed out (the
// crowd, docs/BENCHMARKS.md: 54 % of the process's time in bcryptjs). Here comparisons run on worker
// threads; the event loop only posts and receives messages.
//
// The wait for a thread is bounded (issue 16 point 2): 30 wrong passwords for a cost-12 user, queued
// in one FIFO, made a real user's first login wait 15.8 s. Comparisons now wait in lanes (one per
// login), served in turn, so a flood on one login delays another login by at most the comparisons
// already running; a lane holds few, the whole queue a bounded number, and a comparison not begun
// within the deadline is refused as busy: its request goes to the legacy, which checks it itself.
import { Worker } from 'node:worker_threads'

/** Rejection of a comparison that found no thread in time: the caller defers (`auth-busy`). */
export class BcryptBusy extends Error {
  readonly code = 'BCRYPT_BUSY'
  constructor(why: string) {
    super(`BCrypt busy: ${why}`)
  }
}

export interface BcryptQueueBounds {
  /** Comparisons waiting for a thread at most, over all lanes; one more is refused at once. */
  readonly maxQueued: number
  /** Comparisons one lane (login) may have waiting; one more is refused at once. */
  readonly maxQueuedPerLane: number
  /** A comparison not begun within this is refused (ms). */
  readonly queueTimeoutMs: number
}

const UNBOUNDED: BcryptQueueBounds = { maxQueued: Number.MAX_SAFE_INTEGER, maxQueuedPerLane: Number.MAX_SAFE_INTEGER, queueTimeoutMs: 0 }

interface Waiting {
  readonly id: number
  readonly lane: string
  readonly password: string
  readonly hash: string
  timer: NodeJS.Timeout | undefined
  resolve(matches: boolean): void
  reject(error: Error): void
}

interface Thread {
  readonly worker: Worker
  /** The comparison it runs now, if any. */
  current: Waiting | undefined
  /** Settles once the thread has loaded bcryptjs, or has failed to. */
  readonly started: Promise<void>
}

const WORKER_URL = new URL('./bcrypt-worker.ts', import.meta.url)

export class BcryptPool {
  readonly #size: number
  readonly #bounds: BcryptQueueBounds
  readonly #threads: Thread[] = []
  // Waiting comparisons by lane; a Map keeps insertion order, and a served lane goes to the back.
  readonly #lanes = new Map<string, Waiting[]>()
  // Comparisons running per lane.
  readonly #running = new Map<string, number>()
  #queued = 0
  #nextId = 0
  #closed = false

  /**
   * Settles when every thread started by the constructor has loaded bcryptjs (or failed to: a lost
   * thread is replaced on demand, so this never rejects nor waits forever for one).
   */
  readonly started: Promise<void>

  /**
   * `size` worker threads, started now: a thread takes ~200 ms to start (more on a busy machine),
   * which belongs to the proxy's start-up (await `started`), not to the first request that needs
   * BCrypt. A thread that dies is replaced when the next comparison comes. Without `bounds` the
   * queue is unbounded (tests of the threads alone).
   */
  constructor(size: number, bounds: BcryptQueueBounds = UNBOUNDED) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`BcryptPool size must be a positive integer, got ${size}`)
    this.#size = size
    this.#bounds = bounds
    for (let i = 0; i < size; i++) this.#start()
    this.started = Promise.all(this.#threads.map((thread) => thread.started)).then(() => undefined)
  }

  /**
   * Whether `password` matches the BCrypt `hash`; a hash bcryptjs cannot read matches nothing.
   * `lane`: whose turn it is (the login); lanes are served in turn. Rejects with BcryptBusy when the
   * queue is full or no thread took it within the deadline.
   */
  compare(password: string, hash: string, lane = ''): Promise<boolean> {
    if (this.#closed) return Promise.reject(new Error('BcryptPool is closed'))
    const idle = this.#threads.some((t) => t.current === undefined) || this.#threads.length < this.#size
    let waitingInLane = this.#lanes.get(lane)
    if (!idle) {
      if (this.#queued >= this.#bounds.maxQueued) return Promise.reject(new BcryptBusy(`${this.#queued} comparisons waiting`))
      if ((waitingInLane?.length ?? 0) >= this.#bounds.maxQueuedPerLane) return Promise.reject(new BcryptBusy('too many comparisons waiting for this login'))
    }
    return new Promise<boolean>((resolve, reject) => {
      const waiting: Waiting = { id: this.#nextId++, lane, password, hash, timer: undefined, resolve, reject }
      if (waitingInLane === undefined) {
        waitingInLane = []
        this.#lanes.set(lane, waitingInLane)
      }
      waitingInLane.push(waiting)
      this.#queued++
      this.#dispatch()
      if (this.#bounds.queueTimeoutMs > 0 && this.#isWaiting(waiting)) {
        waiting.timer = setTimeout(() => this.#expire(waiting), this.#bounds.queueTimeoutMs)
        waiting.timer.unref()
      }
    })
  }

  /** Comparisons waiting for a thread (metrics, tests). */
  get queued(): number {
    return this.#queued
  }

  async close(): Promise<void> {
    this.#closed = true
    const error = new Error('BcryptPool closed')
    for (const lane of this.#lanes.values()) {
      for (const waiting of lane) {
        clearTimeout(waiting.timer)
        waiting.reject(error)
      }
    }
    this.#lanes.clear()
    this.#running.clear()
    this.#queued = 0
    await Promise.all(this.#threads.splice(0).map((thread) => {
      thread.current?.reject(error)
      return thread.worker.terminate()
    }))
  }

  #isWaiting(waiting: Waiting): boolean {
    return this.#lanes.get(waiting.lane)?.includes(waiting) ?? false
  }

  #expire(waiting: Waiting): void {
    const lane = this.#lanes.get(waiting.lane)
    const index = lane?.indexOf(waiting) ?? -1
    if (index < 0) return
    lane!.splice(index, 1)
    if (lane!.length === 0) this.#lanes.delete(waiting.lane)
    this.#queued--
    waiting.reject(new BcryptBusy(`not begun within ${this.#bounds.queueTimeoutMs} ms`))
  }

  /**
   * The next comparison in turn: from the lane with the fewest running (a login nobody is checking
   * goes before one being flooded), the front one among equals; that lane then goes to the back.
   */
  #next(): Waiting | undefined {
    let lane: string | undefined
    let fewest = Number.POSITIVE_INFINITY
    for (const name of this.#lanes.keys()) {
      const running = this.#running.get(name) ?? 0
      if (running < fewest) {
        lane = name
        fewest = running
        if (running === 0) break
      }
    }
    if (lane === undefined) return undefined
    const waiting = this.#lanes.get(lane)!
    const next = waiting.shift()!
    this.#lanes.delete(lane)
    if (waiting.length > 0) this.#lanes.set(lane, waiting)
    this.#queued--
    this.#running.set(lane, fewest + 1)
    clearTimeout(next.timer)
    return next
  }

  #finished(waiting: Waiting): void {
    const left = (this.#running.get(waiting.lane) ?? 1) - 1
    if (left > 0) this.#running.set(waiting.lane, left)
    else this.#running.delete(waiting.lane)
  }

  #dispatch(): void {
    while (this.#queued > 0) {
      const thread = this.#threads.find((t) => t.current === undefined) ?? this.#start()
      if (thread === undefined) return
      const next = this.#next()!
      thread.current = next
      // Kept alive while it has work, so an awaited comparison is never cut off by the process exiting.
      thread.worker.ref()
      thread.worker.postMessage({ id: next.id, password: next.password, hash: next.hash })
    }
  }

  #start(): Thread | undefined {
    if (this.#threads.length >= this.#size) return undefined
    // Not kept alive by its worker: a process that forgets close() still exits.
    const worker = new Worker(WORKER_URL)
    worker.unref()
    let markStarted!: () => void
    const started = new Promise<void>((resolve) => { markStarted = resolve })
    const thread: Thread = { worker, current: undefined, started }
    worker.on('message', (message: { id: number; matches: boolean } | { started: true }) => {
      if ('started' in message) return markStarted()
      const { id, matches } = message
      const current = thread.current
      if (current === undefined || current.id !== id) return
      thread.current = undefined
      thread.worker.unref()
      this.#finished(current)
      current.resolve(matches)
      this.#dispatch()
    })
    // A thread that dies takes only its own comparison with it; the next one gets a new thread.
    const lost = (error: Error): void => {
      markStarted()
      const index = this.#threads.indexOf(thread)
      if (index >= 0) this.#threads.splice(index, 1)
      if (thread.current !== undefined) this.#finished(thread.current)
      thread.current?.reject(error)
      thread.current = undefined
      if (!this.#closed) this.#dispatch()
    }
    worker.on('error', lost)
    worker.on('exit', (code) => lost(new Error(`BCrypt worker exited (${code})`)))
    this.#threads.push(thread)
    return thread
  }
}
