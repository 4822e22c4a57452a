// The proxy's admin API as a compare run uses it: read the flags, set a route's mode, put them back.
import { request } from 'undici'

export type Flags = Record<string, { mode: string; percent?: number }>

/** GET /flags/{id}: the mode, and after an automatic switch-off the demotion behind it. */
export interface FlagState {
  readonly mode: string
  readonly percent?: number
  readonly demotion?: { readonly reason: string; readonly at: string }
}

/** The parts of a proxy mismatch record (GET /shadow/mismatches) a compare run reports. */
export interface ProxyMismatch {
  readonly at: string
  readonly routeId: string
  readonly outcome: string
  readonly firstDifference?: { readonly class: string; readonly member: string | null; readonly offset: number | null }
}

export class AdminClient {
  readonly #base: string
  readonly #headers: Record<string, string>

  constructor(base: string, token: string | undefined) {
    this.#base = base.replace(/\/$/, '')
    this.#headers = { 'x-admin-user': 'npm-run-compare', ...(token ? { authorization: `Bearer ${token}` } : {}) }
  }

  async flags(): Promise<Flags> {
    const res = await request(`${this.#base}/flags`, { headers: this.#headers })
    const text = await res.body.text()
    if (res.statusCode !== 200) throw new Error(`admin GET /flags: ${res.statusCode} ${text}`)
    return JSON.parse(text) as Flags
  }

  async flag(routeId: string): Promise<FlagState> {
    return this.#getJson(`/flags/${encodeURIComponent(routeId)}`) as Promise<FlagState>
  }

  /** The proxy's own mismatch records, newest first. */
  async mismatches(): Promise<ProxyMismatch[]> {
    return this.#getJson('/shadow/mismatches') as Promise<ProxyMismatch[]>
  }

  async #getJson(path: string): Promise<unknown> {
    const res = await request(`${this.#base}${path}`, { headers: this.#headers })
    const text = await res.body.text()
    if (res.statusCode !== 200) throw new Error(`admin GET ${path}: ${res.statusCode} ${text}`)
    return JSON.parse(text)
  }

  async setFlag(routeId: string, flag: { mode: string; percent?: number }): Promise<void> {
    const res = await request(`${this.#base}/flags/${encodeURIComponent(routeId)}`, {
      method: 'PUT',
      headers: { ...this.#headers, 'content-type': 'application/json' },
      body: JSON.stringify(flag),
    })
    const text = await res.body.text()
    if (res.statusCode !== 200) throw new Error(`admin PUT /flags/${routeId}: ${res.statusCode} ${text}`)
  }

  /** Sets every route in `routeIds` to `mode`. */
  async setAll(routeIds: readonly string[], mode: string): Promise<void> {
    for (const routeId of routeIds) await this.setFlag(routeId, { mode })
  }
}
