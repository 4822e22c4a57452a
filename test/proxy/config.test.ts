// Configuration: one file per environment plus env overrides, validated once with errors that name
// the option and what it accepts, frozen; reload applies what may change at run time.
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import t from 'tap'
import { ConfigError, loadConfig } from '../../config/load.ts'
import { OPTIONS } from '../../config/schema.ts'
import { parseFlagList, parseFlagText } from '../../core/flag-setting.ts'
import { startEchoUpstream } from './support/echo-upstream.ts'
import { proxyFor } from './support/proxy-under-test.ts'

function problems(env: Record<string, string>, directory?: string): string[] {
  try {
    loadConfig({ env, ...(directory ? { directory } : {}) })
  } catch (error) {
    if (error instanceof ConfigError) return [...error.problems]
    throw error
  }
  return []
}

t.test('every environment file is valid and the defaults match the legacy', async (t) => {
  for (const name of ['development', 'test', 'staging', 'production']) {
    const config = loadConfig({ env: { NODE_ENV: name } })
    t.equal(config.envName, name, `${name}.json loads`)
  }
  const config = loadConfig({ env: { FASTPATH_ENV: 'development' } })
  t.equal(config.maxPageSize, 500)
  t.equal(config.environment, 'Development')
  t.same(config.avsSystem, { manufacturer: 'GfAL', name: 'ArzTi', version: '3.0' })
  t.equal(config.fastPath.cache.maxStaleMs, 2000, 'the fast-path settings are complete, from the schema\'s defaults')
  t.same(config.fastPath.cache.routes, { 'v2.rezept.list': 'ttl', 'v2.rezept.pharmacy': 'ttl' })
  t.equal(config.fastPath.bcryptWorkers, 'cores')
  t.equal(config.admin.port, 9091)
  t.equal(config.admin.host, '127.0.0.1')
  t.ok(Object.isFrozen(config) && Object.isFrozen(config.upstream), 'frozen')
  t.throws(() => {
    ;(config as { port: number }).port = 1
  })
})

t.test('env overrides win over the file', async (t) => {
  const config = loadConfig({
    env: {
      FASTPATH_ENV: 'test', PORT: '8181', ADMIN_PORT: '9191', LEGACY_URL: 'http://legacy:5000', ARZSW_URL: 'postgres://u:secret@db/arzsw',
      REDIS_URL: 'redis://cache:6379', FASTPATH_FLAGS: 'v2.rezept.list=on,v2.rezept.pharmacy=canary:10', FASTPATH_ADMIN_TOKEN: 'tok',
      SERVER_TIMING: 'false', FORWARDED_HEADERS: '0',
    },
  })
  t.equal(config.port, 8181)
  t.equal(config.admin.port, 9191)
  t.equal(config.admin.token, 'tok')
  t.equal(config.legacyUrl, 'http://legacy:5000')
  t.equal(config.redisUrl, 'redis://cache:6379')
  t.same(config.flags, { 'v2.rezept.list': { mode: 'on' }, 'v2.rezept.pharmacy': { mode: 'canary', percent: 10 } })
  t.equal(config.serverTiming, false)
  t.equal(config.forwardedHeaders, false)
})

t.test('invalid values are refused with the option named and the accepted values listed', async (t) => {
  const found = problems({ FASTPATH_ENV: 'test', PORT: 'eighty', FASTPATH_FLAGS: 'v2.rezept.list=fast', LEGACY_URL: 'ftp://x', ARZSW_URL: 'postgres://u:hunter2@db:x/a', SERVER_TIMING: 'maybe', LOG_LEVEL: 'loud' })
  t.match(found.join('\n'), /PORT \(option port\): must be an integer from 0 to 65535, got "eighty"/)
  t.match(found.join('\n'), /FASTPATH_FLAGS \(option flags\): v2.rezept.list: unknown mode "fast"; accepted: off, shadow, on, canary/)
  t.match(found.join('\n'), /LEGACY_URL \(option legacyUrl\): must use http: or https:, not ftp:/)
  t.match(found.join('\n'), /SERVER_TIMING \(option serverTiming\): must be true or false/)
  t.match(found.join('\n'), /LOG_LEVEL \(option logLevel\): must be one of fatal, error, warn, info, debug, trace, silent/)
  t.notMatch(found.join('\n'), /hunter2/, 'a connection string is never echoed')
  t.match(problems({ FASTPATH_ENV: 'qa' }).join(), /"qa" is not an environment; accepted: development, test, staging, production/)
  t.match(problems({ FASTPATH_FLAGS: 'v9=on' }).join(), /unknown route id "v9"/)

  const dir = mkdtempSync(join(tmpdir(), 't_proxy_config_'))
  writeFileSync(join(dir, 'test.json'), JSON.stringify({ prot: 1, upstream: { headersTimeoutMs: 0 }, fastPath: { anything: true } }))
  const fromFile = problems({ FASTPATH_ENV: 'test' }, dir).join('\n')
  t.match(fromFile, /prot \(in .*test.json\): unknown option/)
  t.match(fromFile, /upstream.headersTimeoutMs \(in test.json\): must be an integer from 1 to 3600000, got 0/)
  t.match(fromFile, /fastPath.anything \(in .*test.json\): unknown option; known in fastPath: fastPath.authCacheTtlMs/, 'the fast-path settings are options like any other')
  writeFileSync(join(dir, 'staging.json'), '{not json')
  t.match(problems({ FASTPATH_ENV: 'staging' }, dir).join(), /cannot be read as JSON/)
})

t.test('fast-path settings are options like any other: from file, env or overrides, complete, refused by name', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 't_proxy_config_fast_'))
  writeFileSync(join(dir, 'test.json'), JSON.stringify({ fastPath: { pool: { maxSize: 3 }, cache: { routes: { 'v2.rezept.list': 'cdc' } } } }))
  const config = loadConfig({ env: { FASTPATH_ENV: 'test', FASTPATH_PREPARED_STATEMENTS: 'false' }, directory: dir, overrides: { fastPath: { cache: { maxStaleMs: 900 } } } })
  t.equal(config.fastPath.pool.maxSize, 3, 'from the file')
  t.equal(config.fastPath.pool.maxPools, 50, 'the rest of the group defaulted')
  t.same(config.fastPath.cache.routes, { 'v2.rezept.list': 'cdc', 'v2.rezept.pharmacy': 'ttl' }, 'cache modes merged over the default')
  t.equal(config.fastPath.preparedStatements, false, 'from the env')
  t.equal(config.fastPath.cache.maxStaleMs, 900, 'overrides may be nested like the file')
  t.same(loadConfig({ env: { FASTPATH_ENV: 'test', FASTPATH_CACHE_ROUTES: 'v2.rezept.pharmacy=off' } }).fastPath.cache.routes, { 'v2.rezept.list': 'ttl', 'v2.rezept.pharmacy': 'off' })

  writeFileSync(join(dir, 'test.json'), JSON.stringify({ fastPath: { pool: { maxSize: 'ten' }, cache: 5, bcryptWorkers: 'all', userRowRefreshMs: 90_000 } }))
  const found = problems({ FASTPATH_ENV: 'test', FASTPATH_CACHE_ROUTES: 'v2.rezept.list=always' }, dir).join('\n')
  t.match(found, /fastPath.pool.maxSize \(in test.json\): must be an integer from 1 to 10000, got "ten"/)
  t.match(found, /fastPath.cache \(in .*test.json\): must be an object \(the group of fastPath.cache.routes, /)
  t.match(found, /fastPath.bcryptWorkers \(in test.json\): must be "cores" or an integer from 0 to 64, got "all"/)
  t.match(found, /fastPath.userRowRefreshMs: must not exceed fastPath.authCacheTtlMs \(60000\)/)
  t.match(found, /FASTPATH_CACHE_ROUTES \(option fastPath.cache.routes\): v2.rezept.list: must be one of off, ttl, cdc, got "always"/)
})

t.test('the schema table describes every option once', async (t) => {
  const names = OPTIONS.map((o) => o.name)
  t.equal(new Set(names).size, names.length)
  for (const option of OPTIONS) t.ok(option.description.length > 10, `${option.name} is described`)
})

t.test('flag texts parse, and bad ones say why', async (t) => {
  t.same(parseFlagText('canary:12.5'), { ok: true, value: { mode: 'canary', percent: 12.5 } })
  t.match(parseFlagText('canary:101'), { ok: false, message: /0 to 100/ })
  t.match(parseFlagText('on:5'), { ok: false, message: /only canary/ })
  t.match(parseFlagText('canary:1:2'), { ok: false })
  t.match(parseFlagList('v2.rezept.list'), { ok: false, message: /not <routeId>=<mode>/ })
  t.same(parseFlagList(' , '), { ok: true, value: {} })
})

t.test('POST /reload applies reloadable options and keeps the running config when the new one is invalid', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const overrides: Record<string, unknown> = { legacyUrl: upstream.url }
  const proxy = await proxyFor(t, overrides)
  overrides.serverTiming = false
  overrides.flags = 'v2.rezept.list=shadow'
  overrides.shadowConcurrency = 3
  const answer = await fetch(`${proxy.adminUrl}/reload`, { method: 'POST' })
  t.same(await answer.json(), { reloaded: true, changed: ['flags', 'shadowConcurrency', 'serverTiming'] })
  t.equal(proxy.flags.get('v2.rezept.list').mode, 'shadow', 'flags from the reloaded config apply')
  const after = await fetch(`${proxy.url}/x`)
  t.equal(after.headers.get('server-timing'), null, 'Server-Timing switched off by the reload')
  overrides.port = -1
  const refused = await fetch(`${proxy.adminUrl}/reload`, { method: 'POST' })
  t.equal(refused.status, 500)
  t.match(await refused.text(), /must be an integer from 0 to 65535/)
  t.equal(proxy.config().serverTiming, false, 'the running config stays')
})
