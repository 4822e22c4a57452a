// Runs a fast path beside the legacy in shadow mode: never awaited by the client, at most
// `concurrency` at once (excess shed and counted), every run bounded in time and cancelled on close.
// Comparing the answers comes with the shadow-comparison issue; the outcomes are counted here.
import type { FastPath, FastPathOutcome, FastPathRequest } from '../routes/fast-path/contract.ts'

export interface ShadowCounts {
  started: number
  shed: number
  answered: number
  deferred: number
  failed: number
}

export class ShadowRunner {
  readonly counts: ShadowCounts = { started: 0, shed: 0, answered: 0, deferred: 0, failed: 0 }
  #inFlight = 0
  #concurrency: number
  readonly #timeoutMs: number
  readonly #closing = new AbortController()
  readonly #running = new Set<Promise<unknown>>()
  readonly #onOutcome: ((request: FastPathRequest, outcome: FastPathOutcome) => void) | undefined

  constructor(concurrency: number, timeoutMs: number, onOutcome?: (request: FastPathRequest, outcome: FastPathOutcome) => void) {
    this.#concurrency = concurrency
    this.#timeoutMs = timeoutMs
    this.#onOutcome = onOutcome
  }

  get inFlight(): number {
    return this.#inFlight
  }

  setConcurrency(concurrency: number): void {
    this.#concurrency = concurrency
  }

  /**
   * Starts the shadow run if there is room; returns at once either way. The run begins on the next
   * turn of the event loop, so the legacy request is on the wire before any fast-path work.
   */
  run(fastPath: FastPath, request: FastPathRequest): void {
    if (this.#inFlight >= this.#concurrency || this.#closing.signal.aborted) {
      this.counts.shed++
      return
    }
    this.#inFlight++
    this.counts.started++
    setImmediate(startShadow, this, fastPath, request)
  }

  /** @internal called by startShadow */
  begin(fastPath: FastPath, request: FastPathRequest): void {
    if (this.#closing.signal.aborted) {
      this.#inFlight--
      this.counts.shed++
      return
    }
    const signal = AbortSignal.any([this.#closing.signal, AbortSignal.timeout(this.#timeoutMs)])
    const run = Promise.resolve()
      .then(() => fastPath.handle(request, signal))
      .then(
        (outcome) => {
          if (outcome.kind === 'answer') this.counts.answered++
          else this.counts.deferred++
          this.#onOutcome?.(request, outcome)
        },
        () => {
          this.counts.failed++
        },
      )
      .finally(() => {
        this.#inFlight--
        this.#running.delete(run)
      })
    this.#running.add(run)
  }

  /** Cancels running shadows and waits for them to settle. */
  async close(): Promise<void> {
    this.#closing.abort()
    await Promise.allSettled([...this.#running])
  }
}

function startShadow(runner: ShadowRunner, fastPath: FastPath, request: FastPathRequest): void {
  runner.begin(fastPath, request)
}
