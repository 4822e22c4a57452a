// A statement read through the extended protocol's unnamed portal with a row limit: PostgreSQL sends at
// most `limit` rows and suspends; the pipelined Sync then closes the portal. No cursor of pg's own:
// pg's Query with `rows` keeps fetching until the end, and pg-cursor is not a dependency (a Submittable
// of 60 lines does what is needed, on the client pg already gives).
//
// Why a protocol portal and not `DECLARE CURSOR`: a statement sent with Parse/Bind/Execute is planned
// exactly as a simple query is (cursor options CURSOR_OPT_PARALLEL_OK, for all its rows), so it gets the
// plan the legacy's Npgsql statement gets; DECLARE plans for cursor_tuple_fraction (10 %) of the rows
// and without parallelism, which may be another plan, with another order (docs/legacy-contract.md §12.9).
import type pg from 'pg'

type Connection = {
  parse(config: { text: string; name: string; types: readonly number[] }): void
  bind(config: { portal: string; statement: string; values: readonly unknown[] }): void
  describe(config: { type: 'P'; name: string }): void
  execute(config: { portal: string; rows: number }): void
  sync(): void
}

export type RawRow = ReadonlyArray<string | null>

export interface PortalRead {
  /** Rows `skip` up to `limit` (exclusive) as PostgreSQL's text, in the order PostgreSQL sent them. */
  readonly rows: RawRow[]
  /** Rows PostgreSQL sent: at most `limit` (the portal was suspended there, or ran out). */
  readonly received: number
  /** Whether the portal was suspended at `limit`: more rows might have followed. */
  readonly suspended: boolean
}

const INT32_MAX = 2147483647

/**
 * Runs `text` (no parameters) and keeps rows [skip, limit). Rows before `skip` are counted and
 * dropped as they arrive; rows after `limit` are never sent. `limit` above the protocol's int32
 * means all rows.
 */
class PortalRows implements pg.Submittable {
  readonly #text: string
  readonly #skip: number
  readonly #limit: number
  readonly #rows: RawRow[] = []
  #received = 0
  #suspended = false
  #settle: { resolve: (read: PortalRead) => void; reject: (error: Error) => void } | undefined
  readonly done: Promise<PortalRead>

  constructor(text: string, skip: number, limit: number) {
    this.#text = text
    this.#skip = skip
    this.#limit = limit
    this.done = new Promise((resolve, reject) => {
      this.#settle = { resolve, reject }
    })
  }

  submit(connection: unknown): void {
    const c = connection as Connection
    c.parse({ text: this.#text, name: '', types: [] })
    c.bind({ portal: '', statement: '', values: [] })
    c.describe({ type: 'P', name: '' })
    c.execute({ portal: '', rows: this.#limit > INT32_MAX ? 0 : this.#limit })
    // Pipelined: a suspended unnamed portal is closed with its implicit transaction.
    c.sync()
  }

  handleRowDescription(): void {}

  handleDataRow(message: { fields: Array<string | null> }): void {
    if (this.#received++ >= this.#skip) this.#rows.push(message.fields)
  }

  handlePortalSuspended(): void {
    this.#suspended = true
  }

  handleCommandComplete(): void {}
  handleEmptyQuery(): void {}

  handleError(error: Error): void {
    // pg's client stops routing messages to a query on its error (the ReadyForQuery after the server's
    // error, the Sync being already sent, goes to the client alone): settle now.
    this.#settle!.reject(error)
  }

  handleReadyForQuery(): void {
    this.#settle!.resolve({ rows: this.#rows, received: this.#received, suspended: this.#suspended })
  }

  handleCopyInResponse(connection: { sendCopyFail(message: string): void }): void {
    connection.sendCopyFail('no COPY here')
  }

  handleCopyData(): void {}
}

/** Reads rows [skip, limit) of `text` on `client` through a limited portal. */
export function readPortalRows(client: pg.PoolClient, text: string, skip: number, limit: number): Promise<PortalRead> {
  const portal = new PortalRows(text, skip, limit)
  client.query(portal)
  return portal.done
}
