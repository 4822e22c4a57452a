// The response cache's settings as a proxy with the default configuration has them (fastPath.cache.*
// and redisKeySecret of config/schema.ts), for caches a test builds itself: the cache takes complete
// settings and checks none of them (config/load.ts does).
import type { ResponseCacheOptions } from '../../cache/response-cache.ts'
import { fastPathSettings } from '../../config/fast-path.ts'

const defaults = fastPathSettings({ arzswUrl: 'postgres://test@127.0.0.1/arzsw' })

export const CACHE_DEFAULTS: Omit<ResponseCacheOptions, 'keyPrefix'> = Object.freeze({
  l1MaxBytes: defaults.cache.l1MaxBytes,
  maxEntryBytes: defaults.cache.maxEntryBytes,
  maxStaleMs: defaults.cache.maxStaleMs,
  changeFeedMaxStaleMs: defaults.cache.changeFeedMaxStaleMs,
  redisCommandTimeoutMs: defaults.cache.redisCommandTimeoutMs,
  keySecret: defaults.redisKeySecret,
})
