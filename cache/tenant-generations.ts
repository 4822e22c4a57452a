// What this instance knows of each tenant's cache generation: a local epoch bumped by every invalidation it sees, and the shared Redis generation.
import type { RedisKeyHasher } from './redis-secrets.ts'

export interface TenantGeneration {
  /**
   * A keyed hash of the tenant's database identity (redis-secrets.ts): the only form that reaches
   * Redis. Not a plain sha256: host, database and user are guessable, and the identity may hold a password.
   */
  readonly hash: string
  /** Bumped by every invalidation this instance makes or hears of; an L1 entry or a fill of an older epoch is void. */
  epoch: number
  /** The tenant's generation in Redis as last read or heard; undefined until read, and after Redis was lost. */
  redisGeneration: number | undefined
  /** Since when (Date.now()) the tenant's change feed has followed without a gap; undefined when not. */
  followedSince: number | undefined
}

export class TenantGenerations {
  readonly #byId = new Map<string, TenantGeneration>()
  readonly #byHash = new Map<string, TenantGeneration>()
  readonly #hasher: RedisKeyHasher

  constructor(hasher: RedisKeyHasher) {
    this.#hasher = hasher
  }

  /** The state of a tenant, created at first use (tenants are the pharmacy-system databases: few). */
  of(tenantId: string): TenantGeneration {
    let tenant = this.#byId.get(tenantId)
    if (tenant === undefined) {
      const hash = this.#hasher.hash(tenantId)
      tenant = this.#byHash.get(hash) ?? { hash, epoch: 0, redisGeneration: undefined, followedSince: undefined }
      this.#byId.set(tenantId, tenant)
      this.#byHash.set(hash, tenant)
    }
    return tenant
  }

  /** A local write: every entry of this tenant filled so far is void. */
  bump(tenant: TenantGeneration): void {
    tenant.epoch++
  }

  /** Every tenant's entries are void (a write whose tenant could not be told). */
  bumpAll(): void {
    for (const tenant of this.#byHash.values()) tenant.epoch++
  }

  /**
   * A generation just read from Redis. Returns true when it is beyond what we knew: an invalidation
   * we have not heard of, so our entries of this tenant are void.
   */
  confirm(tenant: TenantGeneration, generation: number): boolean {
    if (tenant.redisGeneration === undefined) {
      tenant.redisGeneration = generation
      return false
    }
    if (generation <= tenant.redisGeneration) return false
    tenant.redisGeneration = generation
    tenant.epoch++
    return true
  }

  /** Takes a generation read from Redis or returned by INCR; never goes back. */
  adopt(tenant: TenantGeneration, generation: number): void {
    if (tenant.redisGeneration === undefined || generation > tenant.redisGeneration) tenant.redisGeneration = generation
  }

  /**
   * Another instance's invalidation (`<hash>:<generation>` from pub/sub). Returns whether it was news:
   * our own INCR already adopted its result, so our own message changes nothing.
   */
  heard(message: string): boolean {
    const colon = message.indexOf(':')
    const tenant = this.#byHash.get(message.slice(0, colon))
    const generation = Number(message.slice(colon + 1))
    if (tenant === undefined || colon < 0 || !Number.isSafeInteger(generation)) return false
    if (tenant.redisGeneration !== undefined && generation <= tenant.redisGeneration) return false
    tenant.redisGeneration = generation
    tenant.epoch++
    return true
  }

  /** Redis was out of reach: messages may have been missed, so nothing known from it is trusted. */
  forgetRedis(): number {
    for (const tenant of this.#byHash.values()) {
      tenant.redisGeneration = undefined
      tenant.epoch++
    }
    return this.#byHash.size
  }
}
