// This instance's current flag per route, the one place that decides off/shadow/fast for a request,
// and the audit trail of changes (who, when, old, new) published on the event bus.
import type { EventBus } from '../../core/events.ts'
import { ROUTE_IDS, type RouteId } from '../contract.ts'
import { FLAG_OFF, FLAG_SHADOW, flagText, type FlagSetting } from '../../core/flag-setting.ts'

export type FlagSource = 'admin' | 'config' | 'peer' | 'demotion'
/** What one request does on a matched route. */
export type RouteDecision = 'legacy' | 'shadow' | 'fast'

export interface FlagChange {
  readonly routeId: RouteId
  readonly from: FlagSetting
  readonly to: FlagSetting
  readonly by: string
  readonly at: string
  readonly source: FlagSource
}

/** Why a route was switched off automatically; kept until the flag is next set without one. */
export interface Demotion {
  readonly reason: string
  readonly at: string
}

export class FlagStore {
  readonly #flags = new Map<RouteId, FlagSetting>()
  readonly #demotions = new Map<RouteId, Demotion>()
  readonly #events: EventBus | undefined
  readonly #listeners: ((change: FlagChange) => void)[] = []
  /**
   * Whether this instance may take a flag another instance set (through Redis); one it may not is
   * taken as `shadow`. The proxy refuses on/canary while it does not know the legacy's settings.
   */
  peerGate: ((flag: FlagSetting) => boolean) | undefined

  constructor(initial: Readonly<Partial<Record<RouteId, FlagSetting>>>, events?: EventBus) {
    this.#events = events
    for (const routeId of ROUTE_IDS) this.#flags.set(routeId, initial[routeId] ?? FLAG_OFF)
  }

  get(routeId: RouteId): FlagSetting {
    return this.#flags.get(routeId) ?? FLAG_OFF
  }

  all(): Record<RouteId, FlagSetting> {
    return Object.fromEntries(ROUTE_IDS.map((id) => [id, this.get(id)])) as Record<RouteId, FlagSetting>
  }

  /** The demotion behind the route's current `off`, if it was one. */
  demotion(routeId: RouteId): Demotion | undefined {
    return this.#demotions.get(routeId)
  }

  /**
   * Applies a flag; returns the change, or null when the flag already said that. `demotion` says why
   * an automatic `off` happened; any setting without one (an operator's PUT) clears the last reason.
   */
  set(routeId: RouteId, to: FlagSetting, by: string, source: FlagSource, demotion?: Demotion): FlagChange | null {
    if (source === 'peer' && this.peerGate?.(to) === false) to = FLAG_SHADOW
    if (demotion !== undefined && to.mode === 'off') this.#demotions.set(routeId, demotion)
    else this.#demotions.delete(routeId)
    const from = this.get(routeId)
    if (flagText(from) === flagText(to)) return null
    this.#flags.set(routeId, to)
    const change: FlagChange = { routeId, from, to, by, at: new Date().toISOString(), source }
    this.#events?.emit({ type: 'flag.changed', routeId, from: flagText(from), to: flagText(to), by, source })
    for (const listener of this.#listeners) listener(change)
    return change
  }

  onChange(listener: (change: FlagChange) => void): void {
    this.#listeners.push(listener)
  }

  /**
   * Decided once per request, at its start: a later flag change never touches a request in flight.
   * `credentials` is the raw Authorization header; canary buckets by it so one client sees one path.
   */
  decide(routeId: RouteId, credentials: string | undefined): RouteDecision {
    const flag = this.get(routeId)
    switch (flag.mode) {
      case 'off':
        return 'legacy'
      case 'shadow':
        return 'shadow'
      case 'on':
        return 'fast'
      case 'canary':
        return canaryBucket(credentials) < flag.percent * 100 ? 'fast' : 'legacy'
    }
  }
}

/** A stable bucket 0..9999 for the credentials (FNV-1a, 32 bit): same client, same bucket, every instance. */
export function canaryBucket(credentials: string | undefined): number {
  let hash = 0x811c9dc5
  const text = credentials ?? ''
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i)
    hash = Math.imul(hash, 0x01000193)
  }
  return (hash >>> 0) % 10_000
}
