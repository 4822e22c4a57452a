// Stops trying a tenant's database on the fast path while it keeps failing, and lets one trial request through after a pause.
import type { EventBus } from '../core/events.ts'

export interface CircuitBreakerOptions {
  readonly failureThreshold: number
  readonly openMs: number
  readonly events: EventBus
  readonly now?: () => number
}

type State = 'closed' | 'open' | 'half-open'

interface Circuit {
  state: State
  failures: number
  openedAt: number
}

export class CircuitBreaker {
  readonly #options: CircuitBreakerOptions
  readonly #now: () => number
  readonly #circuits = new Map<string, Circuit>()

  constructor(options: CircuitBreakerOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
  }

  /** Whether a request for this tenant may use the fast path now. An open circuit admits one trial after openMs. */
  allows(tenant: string): boolean {
    const circuit = this.#circuits.get(tenant)
    if (circuit === undefined || circuit.state === 'closed') return true
    if (circuit.state === 'half-open') return false // a trial is in flight
    if (this.#now() - circuit.openedAt < this.#options.openMs) return false
    this.#change(tenant, circuit, 'half-open')
    return true
  }

  succeeded(tenant: string): void {
    const circuit = this.#circuits.get(tenant)
    if (circuit === undefined) return
    if (circuit.state !== 'closed') this.#change(tenant, circuit, 'closed')
    this.#circuits.delete(tenant)
  }

  failed(tenant: string): void {
    let circuit = this.#circuits.get(tenant)
    if (circuit === undefined) {
      circuit = { state: 'closed', failures: 0, openedAt: 0 }
      this.#circuits.set(tenant, circuit)
    }
    circuit.failures++
    if (circuit.state === 'half-open' || (circuit.state === 'closed' && circuit.failures >= this.#options.failureThreshold)) {
      circuit.openedAt = this.#now()
      this.#change(tenant, circuit, 'open')
    }
  }

  stateOf(tenant: string): State {
    return this.#circuits.get(tenant)?.state ?? 'closed'
  }

  #change(tenant: string, circuit: Circuit, state: State): void {
    circuit.state = state
    if (this.#options.events.listening) this.#options.events.emit({ type: 'circuit.changed', tenant, state })
  }
}
