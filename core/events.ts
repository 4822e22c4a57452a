// One closed union of what happens in the proxy, and the bus that carries it to the consumers that
// decide what to record (the pino logger, the metrics). Emitting with nobody listening costs a check.
import type { DeferReason, RouteId } from './route-ids.ts'
import type { FLAG_MODES } from './flag-setting.ts'

export type ServedBy = 'legacy' | 'fast' | 'cache'
export type FlagMode = (typeof FLAG_MODES)[number]

export type ProxyEvent =
  | { type: 'request.served'; routeId: RouteId | null; servedBy: ServedBy; status: number; durationMs: number; requestId?: string; method?: string }
  | { type: 'fast.deferred'; routeId: RouteId; reason: DeferReason; error?: Error }
  | { type: 'upstream.failed'; kind: 'connect' | 'headers-timeout' | 'body-timeout' | 'reset' | 'aborted' | 'busy' | 'slow-body'; status: number; requestId?: string; code?: string }
  | { type: 'flag.changed'; routeId: RouteId; from: string; to: string; by: string; source: 'admin' | 'config' | 'peer' | 'demotion' }
  | { type: 'auth.checked'; outcome: 'verified' | 'cached' | 'refreshed' | 'rejected' | 'unavailable' | 'busy' }
  | { type: 'circuit.changed'; tenant: string; state: 'open' | 'half-open' | 'closed' }
  | { type: 'db.query'; name: string; durationMs: number; ok: boolean }
  /** tenant: the database's host:port/database label (never its connection string); metrics ignore it, traces hash it. */
  | { type: 'cache.lookup'; routeId: RouteId; outcome: CacheLookupOutcome; tenant?: string }
  | { type: 'cache.invalidated'; cause: CacheInvalidationCause }
  | { type: 'cache.store-skipped'; routeId: RouteId; reason: 'too-big' | 'invalidated' | 'shape' }
  | { type: 'shadow.compared'; routeId: RouteId; outcome: ShadowOutcome; legacyMs: number; fastMs: number }
  | { type: 'route.demoted'; routeId: RouteId; reason: string }
  | { type: 'security'; kind: SecurityKind; clientAddress: string; requestId?: string; subject?: string; retryAfterS?: number; detail?: string }
  | { type: 'config.reloaded'; by: string; ok: boolean; changed: readonly string[]; error?: string }

/**
 * What the audit log records as a security event: a request refused by a limit (rate, failed-login
 * throttle, body size), fast-path work shed to the legacy, a login or address crossing the failed-login
 * threshold, a request Node's parser refused (bad-request) or a client too slow to send it (timeout).
 */
export type SecurityKind = 'rate-limited' | 'auth-throttled' | 'auth-burst' | 'shed' | 'too-large' | 'bad-request' | 'timeout'

/**
 * hit-l1/hit-l2: served from memory/Redis; revalidated: served from memory after the database was
 * found unchanged since the entry's load; miss: loaded (or coalesced onto a load); stale: found but too old.
 */
export type CacheLookupOutcome = 'hit-l1' | 'hit-l2' | 'revalidated' | 'miss' | 'stale'
/** write: a write passed through this instance; peer: another instance's write (pub/sub); cdc: the tenant's change stream; gap: the stream broke; redis-lost: invalidations may have been missed. */
export type CacheInvalidationCause = 'write' | 'peer' | 'cdc' | 'gap' | 'redis-lost'
/**
 * legacy-error: the legacy failed the comparison, not the fast path — it answered 5xx, timed out or
 * broke off, or refused (401) credentials the fast path had verified. Counted apart, never demotes.
 */
export type ShadowOutcome = 'match' | 'mismatch' | 'race' | 'legacy-error' | 'skipped'

export type ProxyEventListener = (event: ProxyEvent) => void

export class EventBus {
  #listeners: ProxyEventListener[] = []

  get listening(): boolean {
    return this.#listeners.length > 0
  }

  on(listener: ProxyEventListener): () => void {
    this.#listeners.push(listener)
    return () => {
      this.#listeners = this.#listeners.filter((l) => l !== listener)
    }
  }

  emit(event: ProxyEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event)
      } catch {
        // A consumer's failure must never reach the request that emitted the event.
      }
    }
  }
}
