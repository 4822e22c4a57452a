// What the metrics read at scrape time from the parts of the proxy that own the state. Every source is
// optional: a metric whose source is missing is not exported (rather than exported as a false 0).

export interface PoolStats {
  /** The tenant database's label (host:port/database), never its identity: that holds the password. */
  readonly tenant: string
  readonly total: number
  readonly idle: number
  readonly waiting: number
}

export interface ShadowRunCounts {
  readonly started: number
  readonly shed: number
  readonly answered: number
  readonly deferred: number
  readonly failed: number
}

export interface XmlMemoStats {
  readonly hits: number
  readonly misses: number
  readonly bytes: number
}

export interface ResponseCacheStats {
  /** Redis commands of the response cache that failed or timed out (it then answers from memory or the database). */
  readonly redisErrors: number
  /** Loads begun for cache misses (concurrent misses of one key share one). */
  readonly loads: number
}

export interface MetricSources {
  /** Client requests being answered now (the proxy fills this in itself). */
  readonly inFlight?: () => number
  /** One entry per open tenant database pool; several registries may be concatenated. */
  readonly pools?: () => readonly PoolStats[]
  /** Whether the Redis connection the flags and cache rely on is ready now. Must not do I/O. */
  readonly redisUp?: () => boolean
  /** The escaped-XML memo of the fast paths: monotonic hits and misses, bytes held now. */
  readonly xmlMemo?: () => XmlMemoStats
  /** The verdict of the latest /readyz (ok, degraded, down); undefined before the first. */
  readonly readiness?: () => 'ok' | 'degraded' | 'down' | undefined
  /** The response cache's monotonic counts not carried by events (lookups per tier are: cache.lookup). */
  readonly responseCache?: () => ResponseCacheStats
  /** Monotonic counts of shadow runs (the proxy fills this in from its shadow runner). */
  readonly shadowRuns?: () => ShadowRunCounts
}
