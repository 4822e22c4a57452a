// Which tenant database a login belongs to, read from ArzSw (docs/legacy-contract.md §2 step 2, without the password
// columns) and kept as a label only: the connection string itself is never stored or logged.
import pg from 'pg'
import { ARZSW_TENANT_SQL } from '../../auth/arzsw-user-query.ts'
import { parseTenantDatabase } from '../../tenants/npgsql-connection-string.ts'

const MAX_LOGINS = 10_000

export class TenantDirectory {
  readonly #pool: pg.Pool
  readonly #labels = new Map<string, { label: string | undefined; readAt: number }>()
  readonly #reading = new Set<string>()
  readonly #refreshMs: number

  constructor(arzswUrl: string, refreshMs: number) {
    this.#refreshMs = refreshMs
    this.#pool = new pg.Pool({ connectionString: arzswUrl, max: 2, connectionTimeoutMillis: 2000, statement_timeout: 2000, idleTimeoutMillis: 30_000 })
    this.#pool.on('error', () => {})
  }

  /** The label if known; starts a lookup (once at a time per login) when missing or old. Never waits. */
  labelOf(login: string): string | undefined {
    const known = this.#labels.get(login)
    if ((known === undefined || Date.now() - known.readAt > this.#refreshMs) && !this.#reading.has(login)) void this.#read(login)
    return known?.label
  }

  /** Resolves when the lookups in flight are done (tests). */
  async settled(): Promise<void> {
    while (this.#reading.size > 0) await new Promise((resolve) => setTimeout(resolve, 5))
  }

  async #read(login: string): Promise<void> {
    this.#reading.add(login)
    try {
      const result = await this.#pool.query<{ datenbank_connection_string: string }>(ARZSW_TENANT_SQL, [login])
      const text = result.rows[0]?.datenbank_connection_string
      let label: string | undefined
      try {
        label = text === undefined ? undefined : parseTenantDatabase(text).label
      } catch {
        label = undefined // a connection string the fast path cannot read: limited per user only
      }
      if (this.#labels.size >= MAX_LOGINS && !this.#labels.has(login)) this.#labels.delete(this.#labels.keys().next().value!)
      this.#labels.set(login, { label, readAt: Date.now() })
    } catch {
      // ArzSw unreachable: the caller stays limited per user until a later lookup succeeds.
    } finally {
      this.#reading.delete(login)
    }
  }

  async close(): Promise<void> {
    await this.#pool.end()
  }
}
