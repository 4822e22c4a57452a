// Follows each tenant database's committed changes over a temporary logical replication slot (pgoutput), and says when a stream starts, sees a commit, or breaks.
//
// Speaks the replication protocol through pg directly (docs/cache-cdc.md says why): a connection with
// replication=database creates a TEMPORARY slot, so nothing is retained once the connection is gone,
// and streams it; pg parses CopyBothResponse and hands every CopyData chunk to its connection's
// 'copyData' event. Any break is a gap: the listener hears `lost`, and a new slot is made later.
//
// Over 300 lines because one stream's states (connect, create slot, stream, status, break) and the
// protocol calls they make are one state machine; the bytes themselves live in replication-messages.ts.
import { randomBytes } from 'node:crypto'
import pg from 'pg'
import type { TenantDatabase } from '../../tenants/npgsql-connection-string.ts'
import {
  commitEndLsn, isRowChange, keepaliveWalEnd, keepaliveWantsReply, pgoutputTag, PGOUTPUT_BEGIN, PGOUTPUT_COMMIT,
  PRIMARY_KEEPALIVE, standbyStatusUpdate, XLOG_DATA,
} from './replication-messages.ts'

export interface ChangeListener {
  /**
   * Streaming from a fresh temporary slot is running: every commit after wall-clock `since` will be
   * reported. `since` is taken right AFTER the slot was created (its consistent point reached): a
   * commit before that is not decoded, so an earlier instant would vouch for what the slot never saw.
   */
  following(tenantId: string, since: number): void
  /** A transaction touching a published table committed (once per commit, not per row). */
  changed(tenantId: string): void | Promise<unknown>
  /**
   * The stream broke or could not start: changes may have been missed. Told once per outage (again
   * only when the reason changes), not once per failed retry.
   */
  lost(tenantId: string, error: ChangeFeedError): void | Promise<unknown>
}

/** publication, connectTimeoutMs: settings (fastPath.cache.*, fastPath.pool.*) checked by config/load.ts; the timings are code. */
export interface ChangeFeedOptions {
  readonly publication: string
  /** Wait before the first retry after a failure; doubles with each further failure. Default 1000. */
  readonly reconnectMs?: number
  /** The longest wait between retries. Default 30000. */
  readonly maxReconnectMs?: number
  /**
   * Standby status updates (confirming what was received, so the server can recycle WAL, and asking
   * for a keepalive back) go out this often. A stream that hears nothing for three intervals is lost.
   * Default 2000.
   */
  readonly statusIntervalMs?: number
  readonly connectTimeoutMs: number
}

export type ChangeFeedErrorCode =
  /** Connecting, creating the slot or starting the stream failed (the server's message says why). */
  | 'CDC_UNAVAILABLE'
  /** The tenant database has no such publication: the operator has not enabled the feed there. */
  | 'CDC_PUBLICATION_MISSING'
  /** A running stream ended: connection lost, walsender terminated, server error. */
  | 'CDC_STREAM_BROKEN'
  /** A running stream went silent (no keepalive for three status intervals): the path may be dead. */
  | 'CDC_SERVER_SILENT'

export class ChangeFeedError extends Error {
  readonly code: ChangeFeedErrorCode
  constructor(code: ChangeFeedErrorCode, message: string, cause?: unknown) {
    super(message, cause === undefined ? undefined : { cause })
    this.name = 'ChangeFeedError'
    this.code = code
  }
}

interface Settings {
  readonly publication: string
  readonly reconnectMs: number
  readonly maxReconnectMs: number
  readonly statusIntervalMs: number
  readonly connectTimeoutMs: number
}

export class ChangeFeeds {
  readonly #settings: Settings
  readonly #listener: ChangeListener
  // Keyed by TenantDatabase.identity: two spellings of one database share one stream.
  readonly #feeds = new Map<string, TenantFeed>()
  #closed = false

  constructor(options: ChangeFeedOptions, listener: ChangeListener) {
    const { publication, reconnectMs = 1000, maxReconnectMs = 30_000, statusIntervalMs = 2000, connectTimeoutMs } = options
    for (const [name, value] of [['reconnectMs', reconnectMs], ['maxReconnectMs', maxReconnectMs], ['statusIntervalMs', statusIntervalMs]] as const) {
      if (!Number.isInteger(value) || value < 1) throw new RangeError(`change feed option ${name} must be a positive integer of milliseconds, not ${value}`)
    }
    this.#settings = Object.freeze({ publication, reconnectMs, maxReconnectMs: Math.max(reconnectMs, maxReconnectMs), statusIntervalMs, connectTimeoutMs })
    this.#listener = listener
  }

  /** Starts following this tenant if not yet (idempotent); reconnects by itself after a loss. Ignored after close(). */
  follow(tenantId: string, database: TenantDatabase): void {
    if (this.#closed || this.#feeds.has(tenantId)) return
    const feed = new TenantFeed(tenantId, database, this.#settings, this.#listener)
    this.#feeds.set(tenantId, feed)
    feed.start()
  }

  /** True only while the tenant's stream is running and healthy. */
  isFollowing(tenantId: string): boolean {
    return this.#feeds.get(tenantId)?.streaming ?? false
  }

  /** Ends every stream; the temporary slots vanish with their connections. No listener call follows. */
  async close(): Promise<void> {
    this.#closed = true
    const closing = [...this.#feeds.values()].map((feed) => feed.close())
    this.#feeds.clear()
    await Promise.all(closing)
  }
}

/** pg's connection object, which the public types leave out: the replication stream lives on it. */
interface ReplicationConnection {
  on(event: 'copyData', listener: (message: { chunk: Buffer }) => void): void
  once(event: 'replicationStart', listener: () => void): void
  sendCopyFromChunk(chunk: Buffer): void
  readonly stream: { destroy(): void }
}

/** How long a Terminate may take to close a connection before its socket is destroyed (a dead path never answers). */
const END_GRACE_MS = 1000

/** Ends a client politely, and for sure: a path gone silent would leave end() waiting forever. */
async function endForSure(client: pg.Client): Promise<void> {
  const connection = (client as unknown as { connection: ReplicationConnection }).connection
  const force = setTimeout(() => connection.stream.destroy(), END_GRACE_MS)
  force.unref()
  await client.end().catch(() => {})
  clearTimeout(force)
}

type FeedState = 'starting' | 'streaming' | 'waiting' | 'closed'

/** One tenant's stream, re-made after every break. */
class TenantFeed {
  readonly #tenantId: string
  readonly #database: TenantDatabase
  readonly #settings: Settings
  readonly #listener: ChangeListener
  #state: FeedState = 'starting'
  #client: pg.Client | undefined
  #connection: ReplicationConnection | undefined
  #retryTimer: NodeJS.Timeout | undefined
  #statusTimer: NodeJS.Timeout | undefined
  #failures = 0
  /** The message of the loss last told and not yet followed by `following`: repeats are not told again. */
  #lastToldLoss: string | undefined
  // Per stream: inside a transaction, whether it touched a published table, what to confirm, when heard.
  #inTransaction = false
  #touched = false
  #received = 0n
  #lastHeard = 0

  constructor(tenantId: string, database: TenantDatabase, settings: Settings, listener: ChangeListener) {
    this.#tenantId = tenantId
    this.#database = database
    this.#settings = settings
    this.#listener = listener
  }

  get streaming(): boolean {
    return this.#state === 'streaming'
  }

  start(): void {
    void this.#attempt()
  }

  async #attempt(): Promise<void> {
    this.#state = 'starting'
    this.#retryTimer = undefined
    const { host, port, database, user, password } = this.#database
    const config: pg.ClientConfig & { replication: 'database' } = {
      host, port, database, user, ...(password === undefined ? {} : { password }),
      replication: 'database',
      connectionTimeoutMillis: this.#settings.connectTimeoutMs,
      keepAlive: true,
      application_name: 'arzti-fastpath-cdc',
    }
    const client = new pg.Client(config)
    this.#client = client
    const fail = (error: unknown): void => this.#broken(client, error)
    client.on('error', fail)
    client.on('end', () => fail(new Error('the server closed the connection')))
    try {
      await client.connect()
      const found = await client.query(`SELECT 1 FROM pg_catalog.pg_publication WHERE pubname = ${client.escapeLiteral(this.#settings.publication)}`)
      if (found.rowCount === 0) {
        throw new ChangeFeedError('CDC_PUBLICATION_MISSING',
          `change feed of ${this.#database.label}: publication "${this.#settings.publication}" does not exist there; ` +
          `the operator creates it on the prescription tables (docs/cache-cdc.md), until then the cache keeps its short bound`)
      }
      const slot = `fastpath_cdc_${randomBytes(8).toString('hex')}`
      // NOEXPORT_SNAPSHOT is the spelling every version since 10 accepts (15+ also takes (SNAPSHOT 'nothing')).
      await client.query(`CREATE_REPLICATION_SLOT ${slot} TEMPORARY LOGICAL pgoutput NOEXPORT_SNAPSHOT`)
      const since = Date.now()
      const connection = (client as unknown as { connection: ReplicationConnection }).connection
      this.#connection = connection
      this.#inTransaction = false
      this.#touched = false
      this.#received = 0n
      connection.on('copyData', (message) => this.#onCopyData(client, message.chunk))
      connection.once('replicationStart', () => this.#started(client, since))
      const publicationNames = client.escapeLiteral(client.escapeIdentifier(this.#settings.publication))
      // The query settles only when the stream ends: by then it is a break, whatever the server said.
      client.query(`START_REPLICATION SLOT ${slot} LOGICAL 0/0 (proto_version '1', publication_names ${publicationNames})`)
        .then(() => fail(new Error('the server ended the stream')), fail)
    } catch (error) {
      fail(error)
    }
  }

  #started(client: pg.Client, since: number): void {
    if (client !== this.#client) return
    this.#state = 'streaming'
    this.#failures = 0
    this.#lastToldLoss = undefined
    this.#lastHeard = Date.now()
    this.#statusTimer = setInterval(() => this.#statusTick(client), this.#settings.statusIntervalMs)
    this.#statusTimer.unref()
    this.#listener.following(this.#tenantId, since)
  }

  #onCopyData(client: pg.Client, chunk: Buffer): void {
    if (client !== this.#client) return
    this.#lastHeard = Date.now()
    if (chunk[0] === XLOG_DATA) {
      const tag = pgoutputTag(chunk)
      if (tag === PGOUTPUT_BEGIN) {
        this.#inTransaction = true
        this.#touched = false
      } else if (tag === PGOUTPUT_COMMIT) {
        this.#inTransaction = false
        this.#received = commitEndLsn(chunk)
        if (this.#touched) {
          this.#touched = false
          this.#tell(() => this.#listener.changed(this.#tenantId))
        }
      } else if (isRowChange(tag)) {
        this.#touched = true
      }
    } else if (chunk[0] === PRIMARY_KEEPALIVE) {
      // Between transactions all the server sent is received: confirming it lets it recycle WAL even
      // when no published table changes. Inside one, the commit will confirm.
      const walEnd = keepaliveWalEnd(chunk)
      if (!this.#inTransaction && walEnd > this.#received) this.#received = walEnd
      if (keepaliveWantsReply(chunk)) this.#sendStatus(false)
    }
  }

  #statusTick(client: pg.Client): void {
    if (Date.now() - this.#lastHeard > 3 * this.#settings.statusIntervalMs) {
      this.#broken(client, new ChangeFeedError('CDC_SERVER_SILENT',
        `change feed of ${this.#database.label}: nothing heard for ${3 * this.#settings.statusIntervalMs} ms although asked every ${this.#settings.statusIntervalMs} ms`))
      return
    }
    // Asking for a reply makes the server send a keepalive: what keeps #lastHeard fresh on a quiet database.
    this.#sendStatus(true)
  }

  #sendStatus(replyRequested: boolean): void {
    this.#connection?.sendCopyFromChunk(standbyStatusUpdate(this.#received, Date.now(), replyRequested))
  }

  #broken(client: pg.Client, error: unknown): void {
    if (client !== this.#client) return
    const wasStreaming = this.#state === 'streaming'
    this.#client = undefined
    this.#connection = undefined
    clearInterval(this.#statusTimer)
    this.#statusTimer = undefined
    void endForSure(client)
    const feedError = this.#asFeedError(error, wasStreaming)
    if (feedError.message !== this.#lastToldLoss) {
      this.#lastToldLoss = feedError.message
      this.#tell(() => this.#listener.lost(this.#tenantId, feedError))
    }
    this.#state = 'waiting'
    const backoff = Math.min(this.#settings.maxReconnectMs, this.#settings.reconnectMs * 2 ** Math.min(this.#failures, 20))
    this.#failures++
    // Up to a tenth more, so tenants that broke together (a server restart) do not reconnect in step.
    this.#retryTimer = setTimeout(() => void this.#attempt(), Math.round(backoff * (1 + Math.random() / 10)))
    this.#retryTimer.unref()
  }

  #asFeedError(error: unknown, wasStreaming: boolean): ChangeFeedError {
    if (error instanceof ChangeFeedError) return error
    const reason = error instanceof Error ? error.message : String(error)
    return wasStreaming
      ? new ChangeFeedError('CDC_STREAM_BROKEN', `change feed of ${this.#database.label} broke, changes may have been missed: ${reason}`, error)
      : new ChangeFeedError('CDC_UNAVAILABLE', `change feed of ${this.#database.label} could not start: ${reason}`, error)
  }

  /** Listeners must not throw; if one does anyway (or rejects), the stream goes on. */
  #tell(call: () => void | Promise<unknown>): void {
    try {
      const result = call()
      if (result !== undefined) result.catch(() => {})
    } catch {
      // A throwing listener is the listener's bug; the feed's state stays right.
    }
  }

  async close(): Promise<void> {
    this.#state = 'closed'
    clearTimeout(this.#retryTimer)
    clearInterval(this.#statusTimer)
    const client = this.#client
    this.#client = undefined
    this.#connection = undefined
    // Terminate ends the walsender; its temporary slot is dropped as the backend exits.
    if (client !== undefined) await endForSure(client)
  }
}
