// Verifies Basic credentials against ArzSw by the legacy's rules (docs/legacy-contract.md §2), caching outcomes so BCrypt does not run per request.
//
// Over 300 lines because the outcome caches, the ArzSw version watch and the user-row reads guard one
// invariant together: no outcome outlives the credentials it was verified against by more than 1 s.
import { createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto'
import bcrypt from 'bcryptjs'
import pg from 'pg'
import type { EventBus } from '../core/events.ts'
import type { BasicCredentials } from './basic-credentials.ts'
import { BcryptBusy, BcryptPool, type BcryptQueueBounds } from './bcrypt-pool.ts'
import { ARZSW_USER_SQL } from './arzsw-user-query.ts'
import { RAW_TEXT } from '../tenants/raw-text-types.ts'
import { SharedOutcomes, type SharedOutcomeOptions } from './shared-outcomes.ts'

export type VerifyOutcome =
  | { readonly kind: 'verified'; readonly connectionString: string }
  | { readonly kind: 'unknown-user' }
  | { readonly kind: 'wrong-password' }
  | { readonly kind: 'unavailable'; readonly error: Error }
  /** BCrypt could not begin within its queue's bounds: the legacy checks these credentials itself. */
  | { readonly kind: 'busy'; readonly error: Error }

export interface CredentialVerifierOptions {
  readonly arzswUrl: string
  /** How long a verification outcome is trusted (issue 5: default 60 s). */
  readonly outcomeTtlMs: number
  /** How long a user's ArzSw row is trusted before it is read again. */
  readonly userRowTtlMs: number
  /**
   * How old the last look at ArzSw's version may be when a request is checked: older, the request
   * waits for a new look (one small query, at most one per this period), and any change to the
   * user, tenant or database tables makes every user row be read again. 0: no watch (rows live
   * userRowTtlMs).
   */
  readonly credentialWatchMs?: number
  readonly connectTimeoutMs: number
  readonly statementTimeoutMs: number
  readonly preparedStatements: boolean
  readonly events: EventBus
  /** Worker threads for BCrypt; 0 runs it on the event loop (bcryptjs in slices of up to 100 ms). */
  readonly bcryptWorkers?: number
  /** Bounds of the wait for a BCrypt thread (bcrypt-pool.ts); without them it is unbounded. */
  readonly bcryptQueue?: BcryptQueueBounds
  /**
   * Verified BCrypt outcomes shared through Redis between instances and across restarts
   * (shared-outcomes.ts); without it each instance verifies on its own.
   */
  readonly shared?: SharedOutcomeOptions | undefined
  /** Injected clock for tests. */
  readonly now?: () => number
  /** Injected randomness of the jitter, in [0, 1), for tests; 0 gives the unjittered times. */
  readonly random?: () => number
}

interface Outcome {
  readonly matches: boolean
  /** Trusted until then (outcomeTtlMs after its check began). */
  readonly expiresAt: number
  /** From then on, a request that uses it has the check run again in the background. */
  readonly refreshAt: number
}

interface UserRow {
  readonly plain: string
  readonly crypt: string | null
  readonly connectionString: string
  readonly readAt: number
  /** The ArzSw version generation current when its read began; a newer one makes it stale. */
  readonly generation: number
}

const USER_SQL = ARZSW_USER_SQL
const USER_STATEMENT = 'fastpath_arzsw_user_v1'

// A version of everything USER_SQL reads (issue 16 point 5: a changed password, a removed login or a
// tenant move kept working for userRowRefreshMs, 10 s, while the legacy refused at once). Every
// INSERT or UPDATE gives its row a new xmin (the writing transaction's id, which no live row has yet)
// and every DELETE removes one: the count and the sum of hashed xmins change with any committed
// write. A seq scan of small tables, ~1 ms for 10,000 users; no trigger, nothing written to ArzSw.
const VERSION_SQL = `SELECT concat_ws('/',
  (SELECT count(*) || ':' || coalesce(sum(hashtextextended(xmin::text, 0)), 0) FROM arzsw_benutzer),
  (SELECT count(*) || ':' || coalesce(sum(hashtextextended(xmin::text, 0)), 0) FROM arzsw_mandant),
  (SELECT count(*) || ':' || coalesce(sum(hashtextextended(xmin::text, 0)), 0) FROM arzsw_datenbank))`
const VERSION_STATEMENT = 'fastpath_arzsw_version_v1'

const WELL_FORMED_BCRYPT = /^\$2[aby]\$(0[4-9]|[12][0-9]|3[01])\$[./A-Za-z0-9]{53}$/

// Bounds the caches against a flood of distinct names or passwords; beyond it the oldest entries go.
// Verified and refused outcomes are kept apart, each with this bound: 10,100 cheap wrong passwords
// used to push a real user's verified outcome out of one shared FIFO (issue 16 point 3); a refused
// outcome now only ever displaces another refused one, and a used verified outcome moves to the back.
const MAX_ENTRIES = 10_000

// Jitter (issue 24): 200 users verified together after a restart would otherwise be renewed together
// at half their life and expire together at its end, each time a burst of BCrypt. An outcome lives
// between 80 % and 100 % of outcomeTtlMs (never longer: the bound holds) and is renewed, when used,
// from between 25 % and 50 % of its life: a 60 s bound spreads expiries over 12 s, renewals over 18 s.
const LIFE_JITTER = 0.2
const REFRESH_FROM = 0.5
const REFRESH_JITTER = 0.25

/** How a check was settled: by BCrypt (or the plain text) here, or by a verified outcome in Redis. */
interface Checked {
  readonly matches: boolean
  readonly shared: boolean
}

export class CredentialVerifier {
  readonly #options: CredentialVerifierOptions
  readonly #pool: pg.Pool
  readonly #now: () => number
  // A per-process secret: cache keys reveal nothing about passwords, even in a heap dump. A KeyObject:
  // createHmac imports a Buffer key anew on every call (21 µs against 2.7 µs, Node 24).
  readonly #secret = createSecretKey(randomBytes(32))
  readonly #rows = new Map<string, UserRow>()
  readonly #verified = new Map<string, Outcome>()
  readonly #refused = new Map<string, Outcome>()
  readonly #bcrypt: BcryptPool | undefined
  // Single flight: a burst of requests for one user asks ArzSw once and runs BCrypt once.
  readonly #rowsInFlight = new Map<string, { readonly generation: number; readonly reading: Promise<UserRow | null> }>()
  readonly #checksInFlight = new Map<string, Promise<Checked>>()
  readonly #shared: SharedOutcomes | undefined
  readonly #random: () => number
  // The ArzSw version watch: the last version seen, when the look that saw it began, and the
  // generation user rows must carry to be current (bumped by every change of version).
  #version: string | undefined
  #versionLookBegan = Number.NEGATIVE_INFINITY
  #generation = 0
  #versionLook: Promise<void> | undefined

  constructor(options: CredentialVerifierOptions) {
    this.#options = options
    this.#now = options.now ?? Date.now
    this.#random = options.random ?? Math.random
    this.#shared = options.shared === undefined ? undefined : new SharedOutcomes(options.shared)
    this.#bcrypt = (options.bcryptWorkers ?? 0) > 0 ? new BcryptPool(options.bcryptWorkers!, options.bcryptQueue) : undefined
    this.#pool = new pg.Pool({
      connectionString: options.arzswUrl,
      max: 4,
      connectionTimeoutMillis: options.connectTimeoutMs,
      statement_timeout: options.statementTimeoutMs,
      // As for the tenant pools: statement_timeout bounds only the server; a slow network is bounded here.
      query_timeout: 2 * options.statementTimeoutMs,
      idleTimeoutMillis: 30_000,
    })
    this.#pool.on('error', () => {}) // an idle client's lost connection is replaced on next use
  }

  async verify(credentials: BasicCredentials): Promise<VerifyOutcome> {
    let row: UserRow | null
    try {
      const watch = this.#options.credentialWatchMs ?? 0
      if (watch > 0 && this.#now() - this.#versionLookBegan >= watch) await this.#lookAtVersion()
      row = await this.#userRow(credentials.user)
    } catch (error) {
      this.#emit('unavailable')
      return { kind: 'unavailable', error: error as Error }
    }
    if (row === null) {
      this.#emit('rejected')
      return { kind: 'unknown-user' }
    }
    // Keyed by the presented credentials AND the stored secrets: a changed password is a new key.
    const key = outcomeKey(this.#secret, [credentials.user, credentials.password, row.crypt ?? '\u0001null', row.plain])
    const now = this.#now()
    const cached = this.#outcome(key)
    let matches: boolean
    if (cached !== undefined && cached.expiresAt > now) {
      matches = cached.matches
      if (matches) {
        this.#emit('cached')
        // Past half its life, a used outcome is checked again in the background: an active user's
        // outcome is renewed before it expires, and their requests never wait for BCrypt again.
        // A renewal takes another instance's newer outcome from Redis when there is one.
        if (now >= cached.refreshAt && !this.#checksInFlight.has(key)) {
          this.#check(key, row, credentials, cached.expiresAt).then(() => this.#emit('refreshed'), () => {})
        }
      }
    } else {
      let checked: Checked
      try {
        checked = await this.#check(key, row, credentials, now)
      } catch (error) {
        if (error instanceof BcryptBusy) {
          this.#emit('busy')
          return { kind: 'busy', error }
        }
        // The BCrypt threads failed: nothing is known of the password (the legacy decides).
        this.#emit('unavailable')
        return { kind: 'unavailable', error: error as Error }
      }
      matches = checked.matches
      // 'verified': checked here now; 'cached': another instance's (or a former process's) outcome.
      if (matches) this.#emit(checked.shared ? 'cached' : 'verified')
    }
    if (!matches) {
      this.#emit('rejected')
      return { kind: 'wrong-password' }
    }
    return { kind: 'verified', connectionString: row.connectionString }
  }

  /** A live outcome of the key, verified or refused; a verified one moves to the back of its segment. */
  #outcome(key: string): Outcome | undefined {
    const verified = this.#verified.get(key)
    if (verified !== undefined) {
      this.#verified.delete(key)
      this.#verified.set(key, verified)
      return verified
    }
    return this.#refused.get(key)
  }

  /**
   * Runs the password check once per key at a time, and remembers its outcome. With shared outcomes,
   * a verified one in Redis that outlives `mustOutlive` settles it without BCrypt.
   */
  #check(key: string, row: UserRow, credentials: BasicCredentials, mustOutlive: number): Promise<Checked> {
    let check = this.#checksInFlight.get(key)
    if (check === undefined) {
      check = this.#checkOnce(key, row, credentials, mustOutlive).finally(() => this.#checksInFlight.delete(key))
      this.#checksInFlight.set(key, check)
    }
    return check
  }

  async #checkOnce(key: string, row: UserRow, credentials: BasicCredentials, mustOutlive: number): Promise<Checked> {
    const ttl = this.#options.outcomeTtlMs
    // Only BCrypt is worth a Redis round trip; the plain-text comparison is cheaper than asking.
    const sharedFields = this.#shared !== undefined && row.crypt !== null && row.crypt !== ''
      ? [credentials.user, credentials.password, row.crypt, row.plain, row.connectionString]
      : undefined
    if (sharedFields !== undefined) {
      const left = Math.min(await this.#shared!.remainingMs(sharedFields), ttl)
      const now = this.#now()
      if (left > 0 && now + left > mustOutlive) {
        const outcome: Outcome = { matches: true, expiresAt: now + left, refreshAt: now + left * this.#refreshShare() }
        this.#refused.delete(key)
        remember(this.#verified, key, outcome)
        return { matches: true, shared: true }
      }
    }
    // The bound counts from when the check began: the outcome is at most that old when it expires.
    const began = this.#now()
    const matches = await passwordMatches(row, credentials, this.#bcrypt)
    const life = ttl * (1 - LIFE_JITTER * this.#random())
    const outcome: Outcome = { matches, expiresAt: began + life, refreshAt: began + life * this.#refreshShare() }
    // A refused outcome is exact too (keyed by the stored secrets): a repeated wrong password costs no BCrypt.
    if (matches) {
      this.#refused.delete(key)
      remember(this.#verified, key, outcome)
      // Only verified outcomes go to Redis, for what is left of their life.
      if (sharedFields !== undefined) this.#shared!.rememberVerified(sharedFields, outcome.expiresAt - this.#now())
    } else {
      this.#verified.delete(key)
      remember(this.#refused, key, outcome)
    }
    return { matches, shared: false }
  }

  /** From which share of its life a used outcome is renewed: REFRESH_FROM less up to REFRESH_JITTER. */
  #refreshShare(): number {
    return REFRESH_FROM - REFRESH_JITTER * this.#random()
  }

  /** One look at ArzSw's version at a time; a changed version makes every user row stale. */
  #lookAtVersion(): Promise<void> {
    this.#versionLook ??= (async () => {
      const began = this.#now()
      const result = await this.#pool.query<string[]>({
        ...(this.#options.preparedStatements ? { name: VERSION_STATEMENT } : {}),
        text: VERSION_SQL, rowMode: 'array', types: RAW_TEXT,
      })
      const version = result.rows[0]![0]!
      // The first look bumps too: a row read before it may predate a change the look already includes.
      if (version !== this.#version) {
        this.#version = version
        this.#generation++
        this.#rows.clear()
      }
      this.#versionLookBegan = began
    })().finally(() => { this.#versionLook = undefined })
    return this.#versionLook
  }

  #userRow(login: string): Promise<UserRow | null> | UserRow {
    const known = this.#rows.get(login)
    if (known !== undefined && known.generation === this.#generation && this.#now() - known.readAt < this.#options.userRowTtlMs) return known
    const inFlight = this.#rowsInFlight.get(login)
    // A read begun before ArzSw's version changed may return the old row: not joined.
    if (inFlight !== undefined && inFlight.generation === this.#generation) return inFlight.reading
    const reading: Promise<UserRow | null> = this.#readUserRow(login).finally(() => {
      if (this.#rowsInFlight.get(login)?.reading === reading) this.#rowsInFlight.delete(login)
    })
    this.#rowsInFlight.set(login, { generation: this.#generation, reading })
    return reading
  }

  async #readUserRow(login: string): Promise<UserRow | null> {
    const now = this.#now()
    const generation = this.#generation
    const result = await this.#pool.query<string[]>({
      ...(this.#options.preparedStatements ? { name: USER_STATEMENT } : {}),
      text: USER_SQL, values: [login], rowMode: 'array', types: RAW_TEXT,
    })
    const first = result.rows[0]
    if (first === undefined) {
      this.#rows.delete(login)
      return null
    }
    const row: UserRow = { plain: first[0]!, crypt: first[1] ?? null, connectionString: first[2]!, readAt: now, generation }
    remember(this.#rows, login, row)
    return row
  }

  #emit(outcome: 'verified' | 'cached' | 'refreshed' | 'rejected' | 'unavailable' | 'busy'): void {
    if (this.#options.events.listening) this.#options.events.emit({ type: 'auth.checked', outcome })
  }

  /** Settles when the BCrypt threads are ready for a first request (at once without them). */
  started(): Promise<void> {
    return this.#bcrypt?.started ?? Promise.resolve()
  }

  async close(): Promise<void> {
    await Promise.all([this.#pool.end(), this.#bcrypt?.close(), this.#shared?.close()])
  }
}

// docs/legacy-contract.md §2 step 3: BCrypt when the crypt column is non-empty (a malformed hash fails), else exact plain text.
async function passwordMatches(row: UserRow, credentials: BasicCredentials, workers: BcryptPool | undefined): Promise<boolean> {
  const password = credentials.password
  if (row.crypt !== null && row.crypt !== '') {
    // Only hashes both BCrypt libraries read alike; any other form defers (the legacy says 401 or not).
    if (!WELL_FORMED_BCRYPT.test(row.crypt)) return false
    // A pool that fails (closed, a thread lost) rejects: that says nothing of the password, so no
    // outcome is remembered and the request goes to the legacy. The worker reads hashes as below.
    // One lane per login: a flood of guesses for one login waits behind itself, not before other users.
    if (workers !== undefined) return workers.compare(password, row.crypt, credentials.user)
    try {
      return await bcrypt.compare(password, row.crypt)
    } catch {
      return false
    }
  }
  return password === row.plain
}

/**
 * Each field is length-prefixed: with plain separators a login or password holding the separator
 * (Basic allows NUL) could make two different (user, password) pairs share one cached outcome.
 */
function outcomeKey(secret: KeyObject, fields: readonly string[]): string {
  const hmac = createHmac('sha256', secret)
  for (const field of fields) hmac.update(`${field.length}:`).update(field)
  return hmac.digest('base64')
}

function remember<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key)
  if (map.size >= MAX_ENTRIES) map.delete(map.keys().next().value!)
  map.set(key, value)
}
