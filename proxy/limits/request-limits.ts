// The limits a request passes before the proxy routes it: body size, the failed-login throttle and
// the rate buckets (per user and tenant when the credentials are known good, per presented login from
// one client address and per client address otherwise: never per login alone); the per-tenant cap on fast-path work; and what each answer teaches
// about the caller (accepted or refused credentials). Emits a `security` event for each refusal.
import type { IncomingMessage } from 'node:http'
import type { EventBus, SecurityKind } from '../../core/events.ts'
import type { ProxyErrorCode } from '../../core/errors.ts'
import { AuthFailures } from './auth-failures.ts'
import { CallerBook, type Caller } from './caller-book.ts'
import { clientAddressOf } from './client-address.ts'
import type { ClassRates, LimitSettings } from './limit-settings.ts'
import { RedisTokenBuckets } from './redis-token-buckets.ts'
import { isOriginForm } from './request-target.ts'
import { parseBasicCredentials } from '../../auth/basic-credentials.ts'
import { TenantDirectory } from './tenant-directory.ts'
import { LocalTokenBuckets, type BucketSpec } from './token-buckets.ts'

/** Why a request is refused before routing, and when to come back (seconds, for Retry-After). */
export interface Refusal {
  readonly code: Extract<ProxyErrorCode, 'RATE_LIMITED' | 'AUTH_THROTTLED' | 'REQUEST_TOO_LARGE' | 'BAD_REQUEST_TARGET'>
  readonly retryAfterS: number | undefined
}

/** What admit learned about the request, kept for the later hooks (the pass-through rewrites req.headers). */
interface Admitted {
  readonly authorization: string | undefined
  readonly caller: Caller
  readonly address: string
}

const ADMITTED = Symbol('limits')
type WithAdmitted = IncomingMessage & { [ADMITTED]?: Admitted }

// The legacy answers 2xx without checking credentials only here (docs/legacy-contract.md §9); elsewhere a 2xx means it accepted them.
const UNPROTECTED = /^\/(api\/health\/|swagger)/i

export interface RequestLimitsOptions {
  readonly settings: LimitSettings
  readonly events: EventBus
  /** Shared buckets; without it each instance limits on its own. */
  readonly redis?: { readonly url: string; readonly keyPrefix: string; readonly keySecret: string }
  /** Tenant lookups for verified logins; without it verified callers are limited per user only. */
  readonly arzswUrl?: string
  readonly now?: () => number
}

export class RequestLimits {
  readonly #settings: LimitSettings
  readonly #events: EventBus
  readonly #local: LocalTokenBuckets
  readonly #shared: RedisTokenBuckets | undefined
  readonly #directory: TenantDirectory | undefined
  readonly #book: CallerBook
  readonly #failures: AuthFailures
  readonly #fastInFlight = new Map<string, number>()

  constructor(options: RequestLimitsOptions) {
    const settings = options.settings
    this.#settings = settings
    this.#events = options.events
    this.#local = new LocalTokenBuckets()
    this.#shared = settings.enabled && options.redis ? new RedisTokenBuckets(options.redis.url, options.redis.keyPrefix, settings.redisTimeoutMs, options.redis.keySecret) : undefined
    this.#directory = !settings.enabled || options.arzswUrl === undefined ? undefined : new TenantDirectory(options.arzswUrl, settings.verifiedTrustMs)
    const directory = this.#directory
    this.#book = new CallerBook({ tenants: (login) => directory?.labelOf(login), trustMs: settings.verifiedTrustMs, ...(options.now ? { now: options.now } : {}) })
    this.#failures = new AuthFailures(settings.authFailures, options.now)
  }

  /** undefined: go on. A Refusal: answer it. A promise only while a shared Redis bucket is asked. */
  admit(req: IncomingMessage, requestId: string): Refusal | undefined | Promise<Refusal | undefined> {
    const address = this.#clientAddress(req)
    const authorization = req.headers.authorization
    // Only a refusal names the login here; parsed then, not for every request.
    const login = (): string | undefined => parseBasicCredentials(authorization)?.user
    if (!isOriginForm(req.url)) return this.#refuse('bad-request', 'BAD_REQUEST_TARGET', undefined, address, requestId, login(), '400 target not origin-form')
    const length = req.headers['content-length']
    if (length !== undefined && Number(length) > this.#settings.maxBodyBytes) {
      return this.#refuse('too-large', 'REQUEST_TOO_LARGE', undefined, address, requestId, login(), `content-length ${length}`)
    }
    // Off: no caller bookkeeping at all (two keyed hashes per request, for limits nobody applies).
    if (!this.#settings.enabled) return undefined
    const caller = this.#book.caller(authorization)
    ;(req as WithAdmitted)[ADMITTED] = { authorization, caller, address }

    // Failures block the address, and a login from that address; never a login everywhere (issue 16
    // point 7: ten wrong passwords from anywhere locked the real user out for 60 s). Credentials
    // known good are not blocked at all, even from a blocked address.
    if (!caller.verified) {
      const blockedMs = Math.max(caller.login === undefined ? 0 : this.#failures.blockedFor(loginFrom(address, caller.login)), this.#failures.blockedFor(`addr:${address}`))
      if (blockedMs > 0) return this.#refuse('auth-throttled', 'AUTH_THROTTLED', Math.ceil(blockedMs / 1000), address, requestId, caller.login)
    }

    const buckets = this.#bucketsFor(caller, address)
    if (this.#shared === undefined || !this.#shared.ready) return this.#rated(this.#local.take(buckets), address, requestId, caller)
    return this.#shared.take(buckets).then(
      (waitMs) => this.#rated(waitMs, address, requestId, caller),
      () => this.#rated(this.#local.take(buckets), address, requestId, caller),
    )
  }

  /**
   * A slot for fast-path work of this request's tenant: a release function, or null when the tenant
   * is at its cap (the request goes to the legacy instead).
   */
  fastSlot(req: IncomingMessage, requestId: string): (() => void) | null | undefined {
    const cap = this.#settings.fastConcurrencyPerTenant
    const admitted = (req as WithAdmitted)[ADMITTED]
    if (!this.#settings.enabled || cap === 0 || admitted === undefined) return undefined
    const caller = admitted.caller
    const key = caller.tenant !== undefined ? `tenant:${caller.tenant}` : caller.login !== undefined ? loginFrom(admitted.address, caller.login) : `addr:${admitted.address}`
    const running = this.#fastInFlight.get(key) ?? 0
    if (running >= cap) {
      this.#emit('shed', admitted.address, requestId, caller.tenant ?? caller.login, undefined, `${running} in flight`)
      return null
    }
    this.#fastInFlight.set(key, running + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      const left = (this.#fastInFlight.get(key) ?? 1) - 1
      if (left === 0) this.#fastInFlight.delete(key)
      else this.#fastInFlight.set(key, left)
    }
  }

  /** The answer's status, whoever gave it: learns whether the presented credentials are good. */
  answered(req: IncomingMessage, status: number, requestId: string): void {
    const admitted = (req as WithAdmitted)[ADMITTED]
    if (admitted === undefined || admitted.authorization === undefined) return
    if (status === 401) {
      this.#book.refused(admitted.authorization)
      if (!this.#settings.enabled) return
      const login = admitted.caller.login
      const byLogin = login === undefined ? 0 : this.#failures.failed(loginFrom(admitted.address, login))
      const byAddress = this.#failures.failed(`addr:${admitted.address}`)
      if (byLogin > 0) this.#emit('auth-burst', admitted.address, requestId, login, undefined, `${byLogin} failed logins for this login from this address`)
      if (byAddress > 0) this.#emit('auth-burst', admitted.address, requestId, login, undefined, `${byAddress} failed logins from this address`)
      return
    }
    if (status >= 200 && status < 300 && !UNPROTECTED.test(req.url ?? '')) this.#book.accepted(admitted.authorization)
  }

  /**
   * Whose share of the legacy's connections a request counts against: a verified user's own (limits
   * on), else its client address's. So anonymous requests from an address cannot take the share of
   * a user who polls from it, and users behind one address do not share one cap.
   */
  upstreamShareOf(req: IncomingMessage): { client: string; anonymous: boolean } {
    const admitted = (req as WithAdmitted)[ADMITTED]
    if (admitted !== undefined && admitted.caller.verified && admitted.caller.login !== undefined) return { client: `user:${admitted.caller.login}`, anonymous: false }
    return { client: `addr:${admitted?.address ?? this.#clientAddress(req)}`, anonymous: true }
  }

  /** Lookups and Redis connections settle (tests). */
  async settled(): Promise<void> {
    await this.#directory?.settled()
  }

  async close(): Promise<void> {
    await Promise.all([this.#shared?.close(), this.#directory?.close()])
  }

  #bucketsFor(caller: Caller, address: string): BucketSpec[] {
    if (caller.verified && caller.login !== undefined) {
      const rates = this.#classOf(caller)
      const buckets: BucketSpec[] = [{ key: `user:${caller.login}`, rate: rates.userPerSecond, burst: rates.userBurst }]
      if (caller.tenant !== undefined) buckets.push({ key: `tenant:${caller.tenant}`, rate: rates.tenantPerSecond, burst: rates.tenantBurst })
      return buckets
    }
    const u = this.#settings.unverified
    const buckets: BucketSpec[] = [{ key: `addr:${address}`, rate: u.addressPerSecond, burst: u.addressBurst }]
    if (caller.login !== undefined) buckets.push({ key: loginFrom(address, caller.login), rate: u.loginPerSecond, burst: u.loginBurst })
    return buckets
  }

  #classOf(caller: Caller): ClassRates {
    const premium = this.#settings.premium
    const isPremium = (caller.tenant !== undefined && premium.has(caller.tenant)) || (caller.login !== undefined && premium.has(caller.login))
    return isPremium ? this.#settings.classes.premium : this.#settings.classes.default
  }

  #rated(waitMs: number, address: string, requestId: string, caller: Caller): Refusal | undefined {
    if (waitMs <= 0) return undefined
    const scope = caller.verified ? (caller.tenant ? `user ${caller.login} / tenant ${caller.tenant}` : `user ${caller.login}`) : caller.login === undefined ? 'address' : `login ${caller.login} from address / address`
    return this.#refuse('rate-limited', 'RATE_LIMITED', Math.max(1, Math.ceil(waitMs / 1000)), address, requestId, caller.login, scope)
  }

  #refuse(kind: SecurityKind, code: Refusal['code'], retryAfterS: number | undefined, address: string, requestId: string, subject: string | undefined, detail?: string): Refusal {
    this.#emit(kind, address, requestId, subject, retryAfterS, detail)
    return { code, retryAfterS }
  }

  #emit(kind: SecurityKind, clientAddress: string, requestId: string, subject: string | undefined, retryAfterS: number | undefined, detail: string | undefined): void {
    if (!this.#events.listening) return
    this.#events.emit({
      type: 'security', kind, clientAddress, requestId,
      ...(subject === undefined ? {} : { subject }),
      ...(retryAfterS === undefined ? {} : { retryAfterS }),
      ...(detail === undefined ? {} : { detail }),
    })
  }

  #clientAddress(req: IncomingMessage): string {
    return clientAddressOf(req, this.#settings.clientAddressHeader)
  }
}

/** The subject of an unverified login's bucket and failure tally: the login as presented from one address. */
function loginFrom(address: string, login: string): string {
  // Length-prefixed: an address cannot end where a login begins.
  return `login:${address.length}:${address}|${login}`
}
