// The limits' settings as the config gives them (config/schema.ts `limits.*`), in one typed value.
import type { LimitsConfig } from '../../config/load.ts'

export interface ClassRates {
  readonly userPerSecond: number
  readonly userBurst: number
  readonly tenantPerSecond: number
  readonly tenantBurst: number
}

export interface LimitSettings {
  /** Rate limits and the failed-login throttle on or off; the size and time bounds always apply. */
  readonly enabled: boolean
  readonly classes: { readonly default: ClassRates; readonly premium: ClassRates }
  /** Database labels (host:port/database) and logins whose tenant is in class `premium`. */
  readonly premium: ReadonlySet<string>
  readonly unverified: { readonly loginPerSecond: number; readonly loginBurst: number; readonly addressPerSecond: number; readonly addressBurst: number }
  readonly authFailures: { readonly maxFailures: number; readonly windowMs: number; readonly blockMs: number }
  /** Most fast-path requests in flight per tenant; more are deferred to the legacy ('shed'). 0: no cap. */
  readonly fastConcurrencyPerTenant: number
  /** How long credentials seen accepted are treated as verified by the limiter. */
  readonly verifiedTrustMs: number
  /** Longest wait for the shared Redis bucket before the local bucket decides. */
  readonly redisTimeoutMs: number
  /** Content-Length above this is refused with 413 (Kestrel's MaxRequestBodySize default). */
  readonly maxBodyBytes: number
  /** Header naming the client's address as set by a trusted load balancer (its last entry); unset: the TCP peer. */
  readonly clientAddressHeader: string | undefined
}

export function limitSettingsOf(config: LimitsConfig): LimitSettings {
  return Object.freeze({
    enabled: config.enabled,
    classes: { default: config.default, premium: config.premium },
    premium: new Set(config.premiumTenants),
    unverified: config.unverified,
    authFailures: config.authFailures,
    fastConcurrencyPerTenant: config.fastConcurrencyPerTenant,
    verifiedTrustMs: config.verifiedTrustMs,
    redisTimeoutMs: config.redisTimeoutMs,
    maxBodyBytes: config.maxBodyBytes,
    clientAddressHeader: config.clientAddressHeader,
  })
}
