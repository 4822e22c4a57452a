// The fast paths' settings for GET /v2/rezept and /v2/rezept/status. They are options of the one
// configuration (config/schema.ts, `fastPath.*`), typed in config/fast-path.ts and validated once by
// config/load.ts; the fast paths take them as given. Re-exported here for the route's own modules.
export {
  CACHE_MODES, fastPathSettings, fastPathSettingsFrom,
  type AvsSystem, type CacheMode, type CacheSettings, type CircuitBreakerSettings, type FastPathSettings, type FastPathSettingsInput, type TenantPoolSettings,
} from '../../config/fast-path.ts'
