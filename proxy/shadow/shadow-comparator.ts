// Puts a fast answer beside the legacy's, off the client's path: pairs the legacy answer captured
// in shadow with the shadow run (or, for on/canary, a sampled fast answer with a background legacy
// read), sets the legacy's own failures apart (`legacy-error`), tells `race` from `mismatch` by
// reading both sides again, emits shadow.compared, keeps mismatch records and feeds each route's
// demotion window.
import { randomUUID } from 'node:crypto'
import type { FastAnswer, FastPath, FastPathRequest, RouteId } from '../../routes/contract.ts'
import { flagText } from '../../core/flag-setting.ts'
import type { FlagStore } from '../../routes/flags/flag-store.ts'
import type { EventBus, ShadowOutcome } from '../../core/events.ts'
import type { ShadowResult, ShadowRunner } from '../shadow-runner.ts'
import { differences, sameAnswer, sameBodies, type ComparedSide } from './answer-comparison.ts'
import { firstDifference } from './first-difference.ts'
import { DemotionWindow, type DemotionRules } from './demotion-window.ts'
import type { CaptureLoss, CaptureSink, CapturedAnswer } from './legacy-capture.ts'
import type { LegacyReader } from './legacy-reader.ts'
import type { MismatchLog } from './mismatch-log.ts'
import { curlLine, loginOf, summarise, type MismatchRecord } from './mismatch-record.ts'

export interface ShadowSettings {
  readonly bodyCapBytes: number
  /** Share of on/canary fast answers checked against the legacy, 0 to 100. */
  readonly samplePercent: number
  /** Most sampled checks started per second (a bucket holding 5 s worth, at least 5). */
  readonly sampleMaxPerSecond: number
  readonly fullBodies: boolean
  readonly valueMaxChars: number
  readonly maxPaths: number
  readonly demotion: DemotionRules & { readonly enabled: boolean }
}

export interface ShadowComparatorOptions {
  readonly legacyUrl: string
  readonly events: EventBus
  readonly flags: FlagStore
  readonly runner: ShadowRunner
  readonly reader: LegacyReader
  readonly log: MismatchLog
  readonly settings: ShadowSettings
  /** Switches the route off everywhere; called at most once per breach. */
  readonly demote: (routeId: RouteId, reason: string) => void
  readonly random?: () => number
  /** Milliseconds, monotonic (tests). */
  readonly now?: () => number
}

/** The two halves of one shadowed request; compared when both have arrived. */
export interface ShadowPair {
  readonly sink: CaptureSink
  readonly fastDone: (result: ShadowResult | undefined) => void
}

interface Fast extends ComparedSide {
  readonly ms: number
  readonly servedBy: string
}

export class ShadowComparator {
  readonly #options: ShadowComparatorOptions
  readonly #windows = new Map<RouteId, DemotionWindow>()
  readonly #random: () => number
  readonly #pending = new Set<Promise<unknown>>()
  readonly #now: () => number
  // Sample tokens: a sample is a full legacy request, and 1 % of a fast path's rate can be more than
  // the legacy serves (the benchmark's 250 cached polls per second against a legacy doing 4).
  readonly #sampleBurst: number
  #sampleTokens: number
  #sampleRefilledAt: number

  constructor(options: ShadowComparatorOptions) {
    this.#options = options
    this.#random = options.random ?? Math.random
    this.#now = options.now ?? (() => performance.now())
    this.#sampleBurst = Math.max(5, 5 * options.settings.sampleMaxPerSecond)
    this.#sampleTokens = this.#sampleBurst
    this.#sampleRefilledAt = this.#now()
  }

  /** For a request in shadow: the sink for the legacy's answer and the settle for the shadow run. */
  pair(fastPath: FastPath, request: FastPathRequest, requestId: string): ShadowPair {
    let legacy: CapturedAnswer | CaptureLoss | undefined
    let fast: ShadowResult | null | undefined
    const both = () => {
      if (legacy === undefined || fast === undefined) return
      this.#track(this.#compareShadow(fastPath, request, requestId, legacy, fast))
    }
    return {
      sink: { capBytes: this.#options.settings.bodyCapBytes, done: (answer) => { if (legacy === undefined) { legacy = answer; both() } } },
      fastDone: (result) => { fast = result ?? null; both() },
    }
  }

  /** For a fast answer sent on an on/canary route: checked against the legacy in the background, sometimes. */
  /** Whether the answer was taken for a comparison (its body is then kept until that is done). */
  sample(fastPath: FastPath, request: FastPathRequest, answer: FastAnswer, fastMs: number, requestId: string): boolean {
    const percent = this.#options.settings.samplePercent
    if (percent <= 0 || this.#random() * 100 >= percent || !this.#takeSampleToken()) return false
    const fast: Fast = { status: answer.status, contentType: answer.contentType, body: answer.body, ms: fastMs, servedBy: answer.servedBy }
    this.#track(
      this.#options.reader.readOrLoss(request.rawUrl, request.headers, undefined, request).then((legacy) => {
        if (legacy === 'over-cap') return this.#emit(request.routeId, 'skipped', 0, fastMs)
        if (legacy === 'failed') return this.#emit(request.routeId, 'legacy-error', 0, fastMs)
        return this.#judge('sample', fastPath, request, requestId, legacy, fast)
      }),
    )
    return true
  }

  #takeSampleToken(): boolean {
    const now = this.#now()
    this.#sampleTokens = Math.min(this.#sampleBurst, this.#sampleTokens + ((now - this.#sampleRefilledAt) / 1000) * this.#options.settings.sampleMaxPerSecond)
    this.#sampleRefilledAt = now
    if (this.#sampleTokens < 1) return false
    this.#sampleTokens--
    return true
  }

  /** Resolves when the comparisons under way are done (tests, shutdown). */
  async settled(): Promise<void> {
    while (this.#pending.size > 0) await Promise.allSettled([...this.#pending])
  }

  #track(work: Promise<unknown>): void {
    const tracked: Promise<unknown> = work.catch(() => {}).finally(() => this.#pending.delete(tracked))
    this.#pending.add(tracked)
  }

  async #compareShadow(fastPath: FastPath, request: FastPathRequest, requestId: string, legacy: CapturedAnswer | CaptureLoss, run: ShadowResult | null): Promise<void> {
    const routeId = request.routeId
    const fastMs = run?.ms ?? 0
    // Over the cap, a shed/failed run or a deferral: nothing to compare. A failed exchange (reset,
    // timed out) beside a fast answer is the legacy's failure, not the fast path's.
    const answered = run !== null && run.outcome.kind === 'answer'
    if (legacy === 'failed' && answered) return this.#emit(routeId, 'legacy-error', 0, fastMs)
    if (typeof legacy === 'string' || run === null || run.outcome.kind !== 'answer') return this.#emit(routeId, 'skipped', typeof legacy === 'string' ? 0 : legacy.ms, fastMs)
    const answer = run.outcome
    const fast: Fast = { status: answer.status, contentType: answer.contentType, body: answer.body, ms: run.ms, servedBy: answer.servedBy }
    await this.#judge('shadow', fastPath, request, requestId, legacy, fast)
  }

  async #judge(kind: 'shadow' | 'sample', fastPath: FastPath, request: FastPathRequest, requestId: string, legacy: CapturedAnswer, fast: Fast): Promise<void> {
    const routeId = request.routeId
    if (sameAnswer(legacy, fast)) return this.#emit(routeId, 'match', legacy.ms, fast.ms)
    if (legacyFailed(legacy, fast)) return this.#emit(routeId, 'legacy-error', legacy.ms, fast.ms)
    const outcome = await this.#raceOrMismatch(fastPath, request, legacy, fast)
    // Recorded first: the record shows the flag the comparison ran under, not the demotion's `off`.
    this.#record(kind, outcome, request, requestId, legacy, fast)
    this.#emit(routeId, outcome, legacy.ms, fast.ms)
  }

  /**
   * The race rule: read both sides once more. If either side's answer changed between its two reads,
   * the tenant's data moved under the comparison: `race`. If both sides are stable and still differ,
   * it is a `mismatch`; so is a difference that cannot be re-checked (a re-read failed or was shed).
   */
  async #raceOrMismatch(fastPath: FastPath, request: FastPathRequest, legacy: CapturedAnswer, fast: Fast): Promise<'mismatch' | 'race'> {
    const [fastAgain, legacyAgain] = await Promise.all([
      this.#options.runner.attempt(fastPath, request),
      this.#options.reader.read(request.rawUrl, request.headers, undefined, request),
    ])
    if (fastAgain === undefined || fastAgain.outcome.kind !== 'answer' || legacyAgain === undefined) return 'mismatch'
    const fastMoved = !sameAnswer(fast, fastAgain.outcome)
    const legacyMoved = legacyAgain.status !== legacy.status || !sameBodies(legacy.body, legacyAgain.body)
    return fastMoved || legacyMoved ? 'race' : 'mismatch'
  }

  #emit(routeId: RouteId, outcome: ShadowOutcome, legacyMs: number, fastMs: number): void {
    this.#options.events.emit({ type: 'shadow.compared', routeId, outcome, legacyMs, fastMs })
    // A failing legacy's latency says nothing about the fast path's either: out of the window.
    if (outcome === 'skipped' || outcome === 'legacy-error' || !this.#options.settings.demotion.enabled) return
    let window = this.#windows.get(routeId)
    if (!window) this.#windows.set(routeId, (window = new DemotionWindow(this.#options.settings.demotion)))
    const reason = window.add(outcome === 'mismatch', legacyMs, fastMs)
    // A route already off (demoted, or switched off by hand) has nothing left to switch.
    if (reason === undefined || this.#options.flags.get(routeId).mode === 'off') return
    window.reset()
    this.#options.demote(routeId, reason)
  }

  #record(kind: 'shadow' | 'sample', outcome: 'mismatch' | 'race', request: FastPathRequest, requestId: string, legacy: CapturedAnswer, fast: Fast): void {
    const settings = this.#options.settings
    const diff = differences(legacy, fast, settings.valueMaxChars, settings.maxPaths)
    const authorization = request.headers.authorization
    const record: MismatchRecord = {
      id: randomUUID(),
      at: new Date().toISOString(),
      routeId: request.routeId,
      outcome,
      kind,
      user: loginOf(authorization),
      flag: flagText(this.#options.flags.get(request.routeId)),
      requestId,
      curl: curlLine(this.#options.legacyUrl, request.rawUrl, request.headers),
      legacy: summarise(legacy),
      fast: { ...summarise(fast), servedBy: fast.servedBy },
      firstDifference: firstDifference(legacy, fast),
      differences: diff.list,
      differencesTotal: diff.total,
    }
    if (settings.fullBodies) record.bodies = { legacy: legacy.body.toString('utf8'), fast: fast.body.toString('utf8') }
    this.#options.log.add(record)
  }
}

/**
 * The legacy, not the fast path, failed this comparison: it answered 5xx (its 30 s command timeout,
 * a database restart, overload), or 401 to credentials the fast path accepted — a fast path answers
 * only after its verifier accepted them (within the verifier's TTL), so the legacy refused a known
 * good login (after a database restart its first requests do). Demoting on these would send every
 * request back to the legacy exactly while it is failing.
 */
function legacyFailed(legacy: ComparedSide, fast: ComparedSide): boolean {
  return legacy.status >= 500 || (legacy.status === 401 && fast.status !== 401)
}
