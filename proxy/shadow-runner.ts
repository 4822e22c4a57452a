// Runs a fast path beside the legacy in shadow mode: never awaited by the client, at most
// `concurrency` at once (excess shed and counted), every run bounded in time and cancelled on close.
// Each run's outcome and duration go to whoever asked (the shadow comparison).
import type { FastPath, FastPathOutcome, FastPathRequest } from '../routes/contract.ts'

export interface ShadowCounts {
  started: number
  shed: number
  answered: number
  deferred: number
  failed: number
}

/** One fast-path run's outcome and how long it took. */
export interface ShadowResult {
  readonly outcome: FastPathOutcome
  readonly ms: number
}

/** Told once per run: the result, or undefined when the run was shed or failed. */
export type ShadowSettle = (result: ShadowResult | undefined) => void

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
  run(fastPath: FastPath, request: FastPathRequest, settle?: ShadowSettle): void {
    if (!this.#admit()) return settle?.(undefined)
    setImmediate(startShadow, this, fastPath, request, settle)
  }

  /**
   * A run now, under the same cap and budget (the comparison's re-check); undefined when there is no
   * room or it failed. Neither counted nor reported to onOutcome: the counts are the shadow runs of
   * client requests, and a re-check is not a request the proxy acts on.
   */
  attempt(fastPath: FastPath, request: FastPathRequest): Promise<ShadowResult | undefined> {
    if (!this.#admit(false)) return Promise.resolve(undefined)
    return new Promise((resolve) => this.begin(fastPath, request, resolve, false))
  }

  #admit(counted = true): boolean {
    if (this.#inFlight >= this.#concurrency || this.#closing.signal.aborted) {
      if (counted) this.counts.shed++
      return false
    }
    this.#inFlight++
    if (counted) this.counts.started++
    return true
  }

  /** @internal called by startShadow */
  begin(fastPath: FastPath, request: FastPathRequest, settle?: ShadowSettle, report = true): void {
    if (this.#closing.signal.aborted) {
      this.#inFlight--
      if (report) this.counts.shed++
      settle?.(undefined)
      return
    }
    const signal = AbortSignal.any([this.#closing.signal, AbortSignal.timeout(this.#timeoutMs)])
    const started = performance.now()
    const run = Promise.resolve()
      .then(() => fastPath.handle(request, signal))
      .then(
        (outcome) => {
          if (report) {
            if (outcome.kind === 'answer') this.counts.answered++
            else this.counts.deferred++
            this.#onOutcome?.(request, outcome)
          }
          settle?.({ outcome, ms: performance.now() - started })
        },
        () => {
          if (report) this.counts.failed++
          settle?.(undefined)
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

function startShadow(runner: ShadowRunner, fastPath: FastPath, request: FastPathRequest, settle: ShadowSettle | undefined): void {
  runner.begin(fastPath, request, settle)
}
