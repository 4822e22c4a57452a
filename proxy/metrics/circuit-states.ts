// The last circuit state seen per tenant database, fed by circuit.changed events and read at scrape time.

const STATE_VALUES = { closed: 0, 'half-open': 1, open: 2 } as const

export type CircuitStateName = keyof typeof STATE_VALUES

export class CircuitStates {
  readonly #byTenant = new Map<string, number>()
  readonly #limit: number

  /** `limit` bounds the tenant label's values; closed circuits are forgotten first when it is reached. */
  constructor(limit = 500) {
    this.#limit = limit
  }

  set(tenant: string, state: CircuitStateName): void {
    const value = STATE_VALUES[state]
    if (!this.#byTenant.has(tenant) && this.#byTenant.size >= this.#limit) {
      for (const [known, v] of this.#byTenant) if (v === 0) this.#byTenant.delete(known)
      // Every circuit open at once across more tenants than the bound: the newest is not shown.
      if (this.#byTenant.size >= this.#limit) return
    }
    this.#byTenant.set(tenant, value)
  }

  /** A closed circuit stays listed (value 0) so a dashboard sees it close. */
  entries(): IterableIterator<[string, number]> {
    return this.#byTenant.entries()
  }
}
