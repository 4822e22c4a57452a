// The proxy's admin API as a compare run uses it: read the flags, set a route's mode, put them back.
import { request } from 'undici'

export type Flags = Record<string, { mode: string; percent?: number }>

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
