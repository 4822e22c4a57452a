// One closed union of what happens in the proxy, and the bus that carries it to the consumers that
// decide what to record (the pino logger, the metrics). Emitting with nobody listening costs a check.
import type { DeferReason, RouteId } from '../routes/fast-path/contract.ts'

export type ServedBy = 'legacy' | 'fast' | 'cache'
export type FlagMode = 'off' | 'shadow' | 'on' | 'canary'

export type ProxyEvent =
  | { type: 'request.served'; routeId: RouteId | null; servedBy: ServedBy; status: number; durationMs: number; requestId?: string; method?: string }
  | { type: 'fast.deferred'; routeId: RouteId; reason: DeferReason; error?: Error }
  | { type: 'upstream.failed'; kind: 'connect' | 'headers-timeout' | 'body-timeout' | 'reset' | 'aborted'; status: number; requestId?: string; code?: string }
  | { type: 'flag.changed'; routeId: RouteId; from: string; to: string; by: string; source: 'admin' | 'config' | 'peer' | 'demotion' }
  | { type: 'auth.checked'; outcome: 'verified' | 'cached' | 'rejected' | 'unavailable' }
  | { type: 'circuit.changed'; tenant: string; state: 'open' | 'half-open' | 'closed' }
  | { type: 'db.query'; name: string; durationMs: number; ok: boolean }

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
