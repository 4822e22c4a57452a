// Issue 16 point 9: Redis holds nothing guessable or readable. Key names, the tenants set and the
// invalidation messages carry a keyed hash of the tenant, never its host, database or user in any
// form one could reproduce offline; with a body key, cached answers lie in Redis sealed and round-trip.
import { createHash, randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import t, { type Test } from 'tap'
import { loadConfig } from '../../config/load.ts'
import { BodySealer } from '../../cache/redis-secrets.ts'
import { ResponseCache, type ResponseCacheOptions } from '../../cache/response-cache.ts'
import { RedisTokenBuckets } from '../../proxy/limits/redis-token-buckets.ts'
import { needsRedis, redisUrl } from '../../dev/services.ts'
import { CACHE_DEFAULTS } from './cache-settings.ts'

const HOST = 'db-apotheke.example.internal'
const DATABASE = 'apoti_hirsch_apotheke'
const USER = 'hirsch_user'
// As npgsql-connection-string.ts builds a tenant's identity.
const TENANT = JSON.stringify([HOST, 5432, DATABASE, USER, 'pw'])
const ROUTE = 'v2.rezept.list|s|eMuster16|1|100'
const SECRET = 'k'.repeat(16) + randomUUID()
const BODY_KEY = Buffer.alloc(32, 7).toString('base64')
const MARKER = 'Patientin-Erika-Mustermann'

function listBody(): Buffer {
  return Buffer.from(`{"prescriptions":[{"id":"${MARKER}","deliveryTimestamp":"x"}],"totalCount":1,"responseTimestamp":"x"}`)
}

/** Every unsalted digest of the tenant's parts one could compute from guessed values. */
function guessable(): string[] {
  const parts = [TENANT, HOST, DATABASE, USER, `${HOST}:5432/${DATABASE}`, `Host=${HOST};Database=${DATABASE};Username=${USER}`]
  const forms: string[] = [HOST, DATABASE, USER]
  for (const part of parts) {
    for (const algorithm of ['sha256', 'sha1', 'md5', 'sha512']) {
      for (const encoding of ['hex', 'base64', 'base64url'] as const) forms.push(createHash(algorithm).update(part).digest(encoding).slice(0, 16))
    }
  }
  return forms
}

const skip = needsRedis()
const redis = skip.skip ? undefined : new Redis(redisUrl())
const prefix = `t_secret:${randomUUID().slice(0, 8)}:`
t.teardown(async () => {
  if (redis === undefined) return
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
})

async function cacheOf(t: Test, options: Partial<ResponseCacheOptions>): Promise<ResponseCache> {
  const made = new ResponseCache({ ...CACHE_DEFAULTS, l1MaxBytes: 1_000_000, maxEntryBytes: 100_000, keyPrefix: prefix, redis: redisUrl(), keySecret: SECRET, ...options })
  t.teardown(() => made.close())
  const deadline = Date.now() + 5000
  while (!made.l2Available && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  t.ok(made.l2Available, 'reached Redis')
  return made
}

/** Everything the cache left in Redis under the prefix: key names and the tenants set's members. */
async function stored(): Promise<{ names: string[]; values: Buffer[] }> {
  const names = await redis!.keys(`${prefix}*`)
  const values: Buffer[] = []
  for (const name of names) {
    if ((await redis!.type(name)) === 'set') values.push(...(await redis!.smembers(name)).map((m) => Buffer.from(m)))
    else if ((await redis!.type(name)) === 'string') values.push((await redis!.getBuffer(name))!)
  }
  return { names, values }
}

t.test('key names, the tenants set and invalidations hold no derivable form of the tenant', skip, async (t) => {
  const cache = await cacheOf(t, {})
  const messages: string[] = []
  const listener = redis!.duplicate()
  t.teardown(() => listener.disconnect())
  await listener.subscribe(`${prefix}invalidated`)
  listener.on('message', (_channel: string, message: string) => messages.push(message))
  await cache.fill(TENANT, ROUTE, async () => listBody())
  const deadline = Date.now() + 5000
  while ((await redis!.keys(`${prefix}r2*`)).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  await cache.invalidateTenant(TENANT)
  while (messages.length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  const { names, values } = await stored()
  t.ok(names.some((name) => name.includes(':r2:')), 'the entry is in Redis')
  t.equal(messages.length, 1, 'the invalidation was published')
  const visible = [...names, ...messages, ...values.filter((v) => v.length < 100).map((v) => v.toString('latin1'))].join('\n')
  const found = guessable().filter((form) => visible.includes(form))
  t.same(found, [], 'no host, database or user, nor an unsalted digest of them or of the identity')
})

t.test('the limiter\'s buckets are named by keyed hashes too', skip, async (t) => {
  const buckets = new RedisTokenBuckets(redisUrl(), prefix, 1000, SECRET)
  t.teardown(() => buckets.close())
  const deadline = Date.now() + 5000
  while (!buckets.ready && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  await buckets.take([{ key: `user:${USER}`, rate: 1, burst: 5 }, { key: 'addr:192.0.2.7', rate: 1, burst: 5 }])
  const names = (await redis!.keys(`${prefix}limit:*`)).join('\n')
  t.equal(names.split('\n').length, 2)
  const unsalted = [`user:${USER}`, 'addr:192.0.2.7'].map((key) => createHash('sha256').update(key).digest('base64url').slice(0, 16))
  t.same(unsalted.filter((form) => names.includes(form)), [], 'not the unsalted sha256 of the login or address')
  t.notMatch(names, /hirsch|192\.0\.2/)
})

t.test('with a body key, an answer in Redis is not readable, and another instance reads it back', skip, async (t) => {
  const writer = await cacheOf(t, { bodyKey: BODY_KEY })
  const body = listBody()
  await writer.fill(TENANT, `${ROUTE}|sealed`, async () => body)
  const deadline = Date.now() + 5000
  let records: string[] = []
  while ((records = await redis!.keys(`${prefix}r2s:*`)).length === 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10))
  t.equal(records.length, 1, 'one sealed record')
  const record = (await redis!.getBuffer(records[0]!))!
  t.notOk(record.includes(MARKER), 'the patient text is not in Redis')
  t.notOk(record.includes('prescriptions'), 'nor the JSON around it')

  const reader = await cacheOf(t, { bodyKey: BODY_KEY })
  const found = await reader.lookup(TENANT, `${ROUTE}|sealed`)
  t.equal(found.outcome, 'hit-l2', 'a second instance with the same key reads it from Redis')
  t.ok(found.body?.includes(MARKER), 'and gets the answer back')

  const otherKey = await cacheOf(t, { bodyKey: Buffer.alloc(32, 9).toString('base64') })
  t.equal((await otherKey.lookup(TENANT, `${ROUTE}|sealed`)).outcome, 'miss', 'another key opens nothing: a miss, never garbage')
  const clear = await cacheOf(t, {})
  t.equal((await clear.lookup(TENANT, `${ROUTE}|sealed`)).outcome, 'miss', 'an instance without a body key never reads a sealed record as clear')
})

t.test('a sealed record is bound to its key: moved under another name it does not open', async (t) => {
  const sealer = new BodySealer(BODY_KEY)
  const sealed = sealer.seal(Buffer.from('record'), 'fastpath:cache:r2s:{a}:1:x')
  t.equal(sealer.open(sealed, 'fastpath:cache:r2s:{a}:1:x')?.toString(), 'record')
  t.equal(sealer.open(sealed, 'fastpath:cache:r2s:{b}:1:x'), undefined, 'under another tenant\'s name')
  t.equal(sealer.open(Buffer.from('short'), 'k'), undefined)
  t.throws(() => new BodySealer('dG9vIHNob3J0'), RangeError, 'a key that is not 32 bytes is refused')
})

t.test('production with Redis and no key secret refuses to start; elsewhere the development secret is used', async (t) => {
  const env = (name: string, more: Record<string, string> = {}) => ({ FASTPATH_ENV: name, REDIS_URL: 'redis://127.0.0.1:6379', ...more })
  t.throws(() => loadConfig({ env: env('production') }), /redisKeySecret \(REDIS_KEY_SECRET\): required in production/, 'production without REDIS_KEY_SECRET')
  t.throws(() => loadConfig({ env: env('production', { REDIS_KEY_SECRET: 'short' }) }), /at least 32 characters/)
  const ok = loadConfig({ env: env('production', { REDIS_KEY_SECRET: SECRET }) })
  t.equal(ok.redisKeySecret, SECRET)
  t.equal(ok.redisKeySecretIsDefault, false)
  const dev = loadConfig({ env: env('development') })
  t.equal(dev.redisKeySecretIsDefault, true, 'development: the public secret, with a warning at start-up')
  t.throws(() => loadConfig({ env: env('development', { REDIS_BODY_KEY: 'dG9vIHNob3J0' }) }), /32 bytes in base64/)
  t.equal(loadConfig({ env: env('development', { REDIS_BODY_KEY: BODY_KEY }) }).redisBodyKey, BODY_KEY)
})
