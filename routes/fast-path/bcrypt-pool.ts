// BCrypt off the event loop. bcryptjs is JavaScript: a cost-10 comparison is ~70 ms of CPU, and its async
// form runs on the proxy's one thread in slices of up to 100 ms. When 200 users' verifications fell due
// together, the loop ran little but BCrypt for seconds and 1000 polling connections timed out (the
// crowd, docs/BENCHMARKS.md: 54 % of the process's time in bcryptjs). Here comparisons run on worker
// threads, queued in order; the event loop only posts and receives messages.
import { Worker } from 'node:worker_threads'

interface Waiting {
  readonly id: number
  readonly password: string
  readonly hash: string
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
  readonly #threads: Thread[] = []
  readonly #queue: Waiting[] = []
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
   * BCrypt. A thread that dies is replaced when the next comparison comes.
   */
  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`BcryptPool size must be a positive integer, got ${size}`)
    this.#size = size
    for (let i = 0; i < size; i++) this.#start()
    this.started = Promise.all(this.#threads.map((thread) => thread.started)).then(() => undefined)
  }

  /** Whether `password` matches the BCrypt `hash`; a hash bcryptjs cannot read matches nothing. */
  compare(password: string, hash: string): Promise<boolean> {
    if (this.#closed) return Promise.reject(new Error('BcryptPool is closed'))
    return new Promise<boolean>((resolve, reject) => {
      this.#queue.push({ id: this.#nextId++, password, hash, resolve, reject })
      this.#dispatch()
    })
  }

  /** Comparisons waiting for a thread (metrics, tests). */
  get queued(): number {
    return this.#queue.length
  }

  async close(): Promise<void> {
    this.#closed = true
    const error = new Error('BcryptPool closed')
    for (const waiting of this.#queue.splice(0)) waiting.reject(error)
    await Promise.all(this.#threads.splice(0).map((thread) => {
      thread.current?.reject(error)
      return thread.worker.terminate()
    }))
  }

  #dispatch(): void {
    while (this.#queue.length > 0) {
      const thread = this.#threads.find((t) => t.current === undefined) ?? this.#start()
      if (thread === undefined) return
      const next = this.#queue.shift()!
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
      current.resolve(matches)
      this.#dispatch()
    })
    // A thread that dies takes only its own comparison with it; the next one gets a new thread.
    const lost = (error: Error): void => {
      markStarted()
      const index = this.#threads.indexOf(thread)
      if (index >= 0) this.#threads.splice(index, 1)
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
