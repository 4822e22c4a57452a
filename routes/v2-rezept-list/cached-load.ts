// Answers through the response cache: a hit once the caller is authenticated, or one load (tenant-load.ts)
// for every concurrent miss of a key. Also builds the cache and, for cdc routes, the tenants' change feeds.
import { createHash } from 'node:crypto'
import type { EventBus } from '../../core/events.ts'
import { ChangeFeeds } from '../../cache/cdc/change-feed.ts'
import { ResponseCache } from '../../cache/response-cache.ts'
import type { TenantDatabase } from '../../tenants/npgsql-connection-string.ts'
import type { FastAnswer, RouteId } from '../contract.ts'
import { cachedAnswer } from './answer.ts'
import type { ListRequest } from './request.ts'
import type { FastPathSettings } from './settings.ts'
import type { TenantLoader } from './tenant-load.ts'

/** The response cache and the change feeds that void it; undefined when every route has the cache off. */
export function createAnswerCache(settings: FastPathSettings, events: EventBus): { cache: ResponseCache; feeds: ChangeFeeds | undefined } | undefined {
  if (!Object.values(settings.cache.routes).some((mode) => mode !== 'off')) return undefined
  const cache = new ResponseCache({
    l1MaxBytes: settings.cache.l1MaxBytes,
    maxEntryBytes: settings.cache.maxEntryBytes,
    maxStaleMs: settings.cache.maxStaleMs,
    changeFeedMaxStaleMs: settings.cache.changeFeedMaxStaleMs,
    redisCommandTimeoutMs: settings.cache.redisCommandTimeoutMs,
    keyPrefix: `${settings.redisKeyPrefix}cache:`,
    keySecret: settings.redisKeySecret,
    bodyKey: settings.redisBodyKey,
    ...(settings.redisUrl === undefined ? {} : { redis: settings.redisUrl }),
    onInvalidated: (cause) => {
      if (events.listening) events.emit({ type: 'cache.invalidated', cause })
    },
    onStoreSkipped: (reason, routeKey) => {
      // Route keys begin with the route id (CachedLoad.answer).
      if (events.listening) events.emit({ type: 'cache.store-skipped', routeId: routeKey.slice(0, routeKey.indexOf('|')) as RouteId, reason })
    },
  })
  // cdc mode: each tenant's change stream voids its entries within a fraction of a second, and a
  // gap voids them all; meanwhile entries may live up to changeFeedMaxStaleMs (change-feed.ts).
  const feeds = Object.values(settings.cache.routes).includes('cdc')
    ? new ChangeFeeds({ publication: settings.cache.publication, connectTimeoutMs: settings.pool.connectTimeoutMs }, {
      following: (tenantId, since) => cache.followingChanges(tenantId, since),
      changed: (tenantId) => cache.changed(tenantId),
      lost: (tenantId) => cache.lostChanges(tenantId),
    })
    : undefined
  return { cache, feeds }
}

/**
 * The settings an answer's bytes depend on besides the database: instances that differ in them (a
 * misconfiguration, or a rolling change of Environment) must never serve each other's entries.
 * Generations stay shared, so a write still voids every instance's entries.
 */
export function answerSettingsKey(settings: Pick<FastPathSettings, 'environment' | 'avsSystem' | 'maxPageSize'>): string {
  return createHash('sha256').update(JSON.stringify([settings.environment, settings.avsSystem, settings.maxPageSize])).digest('base64url').slice(0, 12)
}

export interface CachedLoadParts {
  readonly cache: ResponseCache
  readonly feeds: ChangeFeeds | undefined
  readonly loader: TenantLoader
  readonly events: EventBus
  /** Each route's cache mode (off, ttl, cdc). */
  readonly modes: FastPathSettings['cache']['routes']
  /** answerSettingsKey(settings). */
  readonly answerSettings: string
}

export class CachedLoad {
  readonly #parts: CachedLoadParts

  constructor(parts: CachedLoadParts) {
    this.#parts = parts
  }

  /** Whether this route's answers go through the cache. */
  covers(routeId: RouteId): boolean {
    return (this.#parts.modes[routeId] ?? 'off') !== 'off'
  }

  /**
   * A hit, or the load's answer (LoadDeferred when it deferred). `signal` is checked once the lookup
   * missed; the load itself is shared by every caller coalesced onto the key, so one caller going
   * away does not stop it (its entry serves the next request).
   */
  async answer(routeId: RouteId, database: TenantDatabase, list: ListRequest, signal: AbortSignal): Promise<FastAnswer | 'aborted'> {
    const { cache, feeds, loader, events } = this.#parts
    const trustChangeFeed = this.#parts.modes[routeId] === 'cdc'
    if (trustChangeFeed) feeds!.follow(database.identity, database)
    // Canonical: the parsed request, so `type=EMUSTER16` and `type=eMuster16` share an entry.
    const routeKey = `${routeId}|${this.#parts.answerSettings}|${list.types.map((type) => type.key).join(',')}|${list.page}|${list.pageSize}`
    const found = await cache.lookup(database.identity, routeKey, trustChangeFeed, (validator) => loader.unchangedSince(database, validator))
    if (events.listening) events.emit({ type: 'cache.lookup', routeId, outcome: found.outcome, tenant: database.label })
    if (found.body !== undefined) return cachedAnswer(found.body, 'cache', cache)
    if (signal.aborted) return 'aborted'
    const body = await cache.fill(database.identity, routeKey, () => loader.load(database, list, { forCache: true }), trustChangeFeed)
    return cachedAnswer(body!, 'fast', cache)
  }
}
