// The response cache serves across instances, forgets on writes and with age, runs one load per cold key, keeps tenants apart and survives a lost Redis.
import t from 'tap'
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import { DEV_REDIS_KEY_SECRET, RedisKeyHasher } from '../../cache/redis-secrets.ts'
import { ResponseCache, type ResponseCacheOptions } from '../../cache/response-cache.ts'
import { needsRedis, redisUrl } from '../../dev/services.ts'
import { fastPathSettings } from '../../config/fast-path.ts'
import { CACHE_DEFAULTS } from './cache-settings.ts'
import { redisRelay } from '../support/tcp-relay.ts'

const UTC_NOW = /"(?:responseTimestamp|deliveryTimestamp)":"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{0,6}[1-9])?Z"/g
const TENANT_A = 'Host=db;Database=apoti_a;Username=u;Password=geheim-a'
const TENANT_B = 'Host=db;Database=apoti_b;Username=u;Password=geheim-b'
const ROUTE = 'v2.rezept.list?page=1&pageSize=100'

/** How a tenant is named in Redis keys and messages by caches with the default (development) key secret. */
const tenantKeyName = (tenantId: string): string => new RedisKeyHasher(DEV_REDIS_KEY_SECRET).hash(tenantId)

function listBody(marker: string): Buffer {
  return Buffer.from(`{"prescriptions":[{"id":"${marker}","deliveryTimestamp":"x"},{"id":2,"deliveryTimestamp":"x"}],"totalCount":2,"responseTimestamp":"x"}`)
}

/** The body with its timestamps checked for UtcNow form and blanked, to compare answers. */
function blanked(body: Buffer | undefined): string | undefined {
  if (body === undefined) return undefined
  const text = body.toString('utf8')
  const stamps = text.match(UTC_NOW)?.length ?? 0
  if (stamps !== 3) throw new Error(`expected 3 fresh timestamps, found ${stamps} in ${text}`)
  return text.replace(UTC_NOW, '~')
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

async function until(condition: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await sleep(5)
  }
}

const prefix = `t_cache:${randomUUID().slice(0, 8)}:`

/**
 * Waits until the tenant's entry for routeKey is in Redis. fill() does not wait for its Redis write
 * (the client never waits on Redis), and a fixed sleep was too short on a busy machine.
 */
async function untilInRedis(tenantId: string, routeKey: string, timeoutMs = 5000): Promise<void> {
  const redis = new Redis(redisUrl())
  try {
    const hash = tenantKeyName(tenantId)
    const deadline = Date.now() + timeoutMs
    while (!(await redis.keys(`${prefix}r2:{${hash}}:*`)).some((key) => key.endsWith(`:${routeKey}`))) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${routeKey} of a tenant in Redis`)
      await sleep(5)
    }
  } finally {
    redis.disconnect()
  }
}
const caches: ResponseCache[] = []

function cache(options: Partial<ResponseCacheOptions> = {}): ResponseCache {
  const made = new ResponseCache({ ...CACHE_DEFAULTS, l1MaxBytes: 1_000_000, maxEntryBytes: 100_000, keyPrefix: prefix, ...options })
  caches.push(made)
  return made
}

async function sharedPair(options: Partial<ResponseCacheOptions> = {}): Promise<[ResponseCache, ResponseCache]> {
  const pair: [ResponseCache, ResponseCache] = [cache({ redis: redisUrl(), ...options }), cache({ redis: redisUrl(), ...options })]
  await until(() => pair[0].l2Available && pair[1].l2Available, 'both caches to reach Redis')
  return pair
}

t.teardown(async () => {
  for (const made of caches) await made.close()
  if (process.env.FASTPATH_TEST_REDIS === 'unavailable') return
  const redis = new Redis(redisUrl())
  const keys = await redis.keys(`${prefix}*`)
  if (keys.length > 0) await redis.del(...keys)
  redis.disconnect()
})

t.test('an answer filled on one instance is served by another from Redis, with fresh timestamps', needsRedis(), async (t) => {
  const [a, b] = await sharedPair()
  const filled = await a.fill(TENANT_A, ROUTE, async () => listBody('eins'))
  t.equal(blanked(filled), blanked(renderedList('eins')))
  await untilInRedis(TENANT_A, ROUTE)
  const served = await b.get(TENANT_A, ROUTE)
  t.equal(blanked(served), blanked(filled), 'same answer on B')
  t.ok(b.counts.hitL2 >= 1, 'counted as an L2 hit')
  t.equal(blanked(await b.get(TENANT_A, ROUTE)), blanked(filled), 'then from B\'s own L1')
  t.ok(b.counts.hitL1 >= 1, 'counted as an L1 hit')
})

t.test('an invalidation on one instance makes every instance miss within a short time', needsRedis(), async (t) => {
  const [a, b] = await sharedPair()
  await a.fill(TENANT_A, ROUTE, async () => listBody('vorher'))
  await b.fill(TENANT_A, ROUTE, async () => listBody('vorher'))
  t.not(await b.get(TENANT_A, ROUTE), undefined, 'B has it before')
  await a.invalidateTenant(TENANT_A)
  t.equal(await a.get(TENANT_A, ROUTE), undefined, 'A misses at once')
  await until(() => b.counts.invalidationHeard >= 1, 'B to hear of the invalidation', 1000)
  t.equal(await b.get(TENANT_A, ROUTE), undefined, 'B misses once it heard')
  t.equal(a.counts.invalidation, 1)
})

t.test('a fill that began before an invalidation is answered but stored nowhere', needsRedis(), async (t) => {
  const [a, b] = await sharedPair()
  let release!: () => void
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  let loadsBegun = 0
  const load = async (): Promise<Buffer> => {
    loadsBegun++
    await gate
    return listBody('alt')
  }
  const early = a.fill(TENANT_A, ROUTE, load)
  const lateOnB = b.fill(TENANT_A, ROUTE, load)
  await until(() => loadsBegun === 2, 'both loads to begin')
  await a.invalidateTenant(TENANT_A)
  await until(() => b.counts.invalidationHeard >= 1, 'B to hear of the invalidation', 1000)
  release()
  t.equal(blanked(await early), blanked(renderedList('alt')), 'the caller still gets its answer')
  await lateOnB
  t.equal(a.counts.storeSkippedInvalidated, 1, 'A did not store it')
  t.equal(b.counts.storeSkippedInvalidated, 1, 'B did not store it')
  await sleep(50)
  t.equal(await a.get(TENANT_A, ROUTE), undefined, 'A misses')
  t.equal(await b.get(TENANT_A, ROUTE), undefined, 'B misses')
  const fresh = cache({ redis: redisUrl() })
  await until(() => fresh.l2Available, 'a third instance to reach Redis')
  t.equal(await fresh.get(TENANT_A, ROUTE), undefined, 'nor does Redis hold it')
})

t.test('a fill whose generation moved on in Redis is not stored there, even if this instance has not heard yet', needsRedis(), async (t) => {
  const [a] = await sharedPair()
  let release!: () => void
  const gate = new Promise<void>((resolve) => {
    release = resolve
  })
  t.equal(await a.get(TENANT_B, ROUTE), undefined, 'a miss that reads the generation')
  const filling = a.fill(TENANT_B, ROUTE, async () => {
    await gate
    return listBody('überholt')
  })
  // Another instance's INCR whose message has not arrived yet: bump the counter behind A's back.
  const redis = new Redis(redisUrl())
  const hash = tenantKeyName(TENANT_B)
  await redis.incr(`${prefix}g:{${hash}}`)
  release()
  await filling
  await sleep(50)
  t.same(await redis.keys(`${prefix}r2:{${hash}}*`), [], 'no entry of that tenant was written to Redis')
  redis.disconnect()
})

t.test('fifty concurrent fills of one cold key run the load once and all get the answer', async (t) => {
  const only = cache()
  let loads = 0
  const answers = await Promise.all(Array.from({ length: 50 }, () => only.fill(TENANT_A, ROUTE, async () => {
    loads++
    await sleep(20)
    return listBody('einmal')
  })))
  t.equal(loads, 1)
  for (const answer of answers) t.equal(blanked(answer), blanked(renderedList('einmal')))
  t.equal(blanked(await only.get(TENANT_A, ROUTE)), blanked(renderedList('einmal')), 'and it is cached')
})

t.test('a caller after an invalidation does not join a load that began before it', async (t) => {
  const only = cache()
  let loads = 0
  const load = async (): Promise<Buffer> => {
    loads++
    await sleep(20)
    return listBody(`lauf${loads}`)
  }
  const first = only.fill(TENANT_A, ROUTE, load)
  await only.invalidateTenant(TENANT_A)
  const second = only.fill(TENANT_A, ROUTE, load)
  await Promise.all([first, second])
  t.equal(loads, 2, 'two loads')
  t.equal(blanked(await only.get(TENANT_A, ROUTE)), blanked(renderedList('lauf2')), 'the later one is cached')
})

t.test('a caller does not join a load that began more than maxStaleMs before it (a slow query may miss a change committed meanwhile)', async (t) => {
  // Found by the consistency race test on a busy machine: a read joined a 500-item page load begun
  // long before a direct write it had to see. The old load is held by an event, not a sleep.
  const only = cache({ maxStaleMs: 100 })
  let loads = 0
  let releaseFirst!: () => void
  const firstHeld = new Promise<void>((resolve) => { releaseFirst = resolve })
  const first = only.fill(TENANT_A, ROUTE, async () => {
    loads++
    await firstHeld
    return listBody('alt')
  })
  await sleep(150)
  const later = only.fill(TENANT_A, ROUTE, async () => {
    loads++
    return listBody('neu')
  })
  releaseFirst()
  const [, second] = await Promise.all([first, later])
  t.equal(loads, 2, 'a load of its own')
  t.equal(blanked(second), blanked(renderedList('neu')), 'the later caller gets the later state')
})

t.test('entries older than maxStaleMs are not served, from L1 or from Redis', needsRedis(), async (t) => {
  const [a, b] = await sharedPair({ maxStaleMs: 150 })
  await a.fill(TENANT_A, ROUTE, async () => listBody('jung'))
  t.not(await a.get(TENANT_A, ROUTE), undefined, 'served while young')
  await sleep(200)
  t.equal(await a.get(TENANT_A, ROUTE), undefined, 'not from L1 once old')
  t.equal(a.counts.stale, 1, 'counted as stale')
  t.equal(await b.get(TENANT_A, ROUTE), undefined, 'not from Redis either')
})

t.test('the age counts from when the load began, not when it ended', async (t) => {
  // Wide margins around the bound: on a busy machine a lookup can come 100 ms after the line before.
  const only = cache({ maxStaleMs: 600 })
  await only.fill(TENANT_A, ROUTE, async () => {
    await sleep(300)
    return listBody('langsam')
  })
  t.not(await only.get(TENANT_A, ROUTE), undefined, 'served at first')
  await sleep(350)
  t.equal(await only.get(TENANT_A, ROUTE), undefined, 'gone 600 ms after the load began')
  const tooSlow = await only.fill(TENANT_B, ROUTE, async () => {
    await sleep(700)
    return listBody('zu-langsam')
  })
  t.not(tooSlow, undefined, 'a load slower than maxStaleMs is answered')
  t.equal(await only.get(TENANT_B, ROUTE), undefined, 'but not stored')
})

t.test('an oversized answer is returned but not stored', async (t) => {
  const skipped: string[] = []
  const only = cache({ maxEntryBytes: 100, onStoreSkipped: (reason, routeKey) => skipped.push(`${reason} ${routeKey}`) })
  const body = listBody('x'.repeat(200))
  t.equal(await only.fill(TENANT_A, ROUTE, async () => body), body, 'the loaded body as it came')
  t.equal(await only.get(TENANT_A, ROUTE), undefined)
  t.equal(only.counts.storeSkippedTooBig, 1)
  t.same(skipped, [`too-big ${ROUTE}`], 'told, with the route key')
})

t.test('a declined load or a body that is not a list answer is not stored', async (t) => {
  const only = cache()
  t.equal(await only.fill(TENANT_A, ROUTE, async () => undefined), undefined, 'declined')
  const odd = Buffer.from('{"error":"x"}')
  t.equal(await only.fill(TENANT_A, ROUTE, async () => odd), odd, 'odd body returned as is')
  t.equal(await only.get(TENANT_A, ROUTE), undefined)
  t.equal(only.counts.storeSkippedShape, 1)
})

t.test('two tenants never share an entry, even with the same route key', needsRedis(), async (t) => {
  const [a, b] = await sharedPair()
  await a.fill(TENANT_A, ROUTE, async () => listBody('nur-a'))
  await sleep(50)
  t.equal(await a.get(TENANT_B, ROUTE), undefined, 'not from L1')
  t.equal(await b.get(TENANT_B, ROUTE), undefined, 'not from Redis')
  await b.fill(TENANT_B, ROUTE, async () => listBody('nur-b'))
  t.equal(blanked(await a.get(TENANT_A, ROUTE)), blanked(renderedList('nur-a')))
  t.equal(blanked(await b.get(TENANT_B, ROUTE)), blanked(renderedList('nur-b')))
})

t.test('a tenant identity never reaches Redis in clear', needsRedis(), async (t) => {
  const [a] = await sharedPair()
  await a.fill(TENANT_A, ROUTE, async () => listBody('geheim'))
  await a.invalidateTenant(TENANT_A)
  await a.fill(TENANT_A, ROUTE, async () => listBody('geheim'))
  await untilInRedis(TENANT_A, ROUTE)
  const redis = new Redis(redisUrl())
  const keys = await redis.keys(`${prefix}*`)
  redis.disconnect()
  t.ok(keys.length > 0, 'keys were written')
  for (const key of keys) t.notMatch(key, /geheim|apoti_a|Password/, key)
})

t.test('with Redis at a closed port every call still works from L1', async (t) => {
  const only = cache({ redis: 'redis://127.0.0.1:1' })
  await sleep(50)
  t.equal(only.l2Available, false)
  t.equal(await only.get(TENANT_A, ROUTE), undefined, 'a miss, not an error')
  t.equal(blanked(await only.fill(TENANT_A, ROUTE, async () => listBody('lokal'))), blanked(renderedList('lokal')))
  t.equal(blanked(await only.get(TENANT_A, ROUTE)), blanked(renderedList('lokal')), 'served from L1')
  await only.invalidateTenant(TENANT_A)
  t.equal(await only.get(TENANT_A, ROUTE), undefined, 'the local invalidation still holds')
  t.ok(only.counts.redisError >= 1, 'the lost Redis is counted')
})

t.test('a given Redis client is used and left open for its owner', needsRedis(), async (t) => {
  const client = new Redis(redisUrl())
  const only = new ResponseCache({ ...CACHE_DEFAULTS, l1MaxBytes: 10_000, maxEntryBytes: 1000, keyPrefix: prefix, redis: client })
  await until(() => only.l2Available, 'the cache to use the client')
  await only.fill(TENANT_A, 'own-client', async () => listBody('eigen'))
  await only.close()
  t.equal(await client.ping(), 'PONG', 'still open')
  client.disconnect()
})

t.test('options are checked once, naming the one that is wrong', async (t) => {
  // Once: by the configuration (config/load.ts), whose settings the cache takes as given.
  const settings = (input: Omit<Parameters<typeof fastPathSettings>[0], 'arzswUrl'>) => () => fastPathSettings({ arzswUrl: 'postgres://x@h/db', ...input })
  t.throws(settings({ cache: { l1MaxBytes: 0, maxEntryBytes: 1 } }), /fastPath.cache.l1MaxBytes/)
  t.throws(settings({ cache: { l1MaxBytes: 10, maxEntryBytes: 1, maxStaleMs: 1.5 } }), /fastPath.cache.maxStaleMs/)
  t.throws(settings({ cache: { l1MaxBytes: 10, maxEntryBytes: 11 } }), /fastPath.cache.maxEntryBytes/)
  t.throws(settings({ redisKeyPrefix: '' }), /redisKeyPrefix/)
})

/** What a list body looks like once served: the same bytes with fresh timestamps. */
function renderedList(marker: string): Buffer {
  return Buffer.from(listBody(marker).toString().replaceAll('"x"', '"2025-01-01T00:00:00Z"'))
}

t.test('after Redis is lost the cache works from L1, and it uses Redis again by itself once it is back', needsRedis(), async (t) => {
  const relay = await redisRelay(redisUrl())
  t.teardown(() => relay.cut())
  const through = cache({ redis: relay.url })
  await until(() => through.l2Available, 'the cache to reach Redis through the relay')

  await relay.cut()
  await until(() => !through.l2Available, 'the cache to notice the loss')
  t.equal(blanked(await through.fill(TENANT_A, 'ausfall', async () => listBody('ohne-redis'))), blanked(renderedList('ohne-redis')))
  t.equal(blanked(await through.get(TENANT_A, 'ausfall')), blanked(renderedList('ohne-redis')), 'served from L1 during the outage')

  await relay.restore()
  await until(() => through.l2Available, 'the cache to reconnect by itself', 5000)
  t.equal(await through.get(TENANT_A, 'ausfall'), undefined, 'what L1 learned while deaf to invalidations is dropped')
  await through.fill(TENANT_A, 'ausfall', async () => listBody('wieder-da'))
  const other = cache({ redis: redisUrl() })
  await until(() => other.l2Available, 'a second instance to reach Redis')
  await untilInRedis(TENANT_A, 'ausfall')
  t.equal(blanked(await other.get(TENANT_A, 'ausfall')), blanked(renderedList('wieder-da')), 'shared through Redis again')
})

t.test('bytes in Redis that are not a whole record are a miss, not an error', needsRedis(), async (t) => {
  const [a] = await sharedPair()
  t.equal(await a.get(TENANT_B, 'kaputt'), undefined, 'a first miss reads the generation')
  const redis = new Redis(redisUrl())
  const hash = tenantKeyName(TENANT_B)
  const generation = Number((await redis.get(`${prefix}g:{${hash}}`)) ?? 0)
  const key = `${prefix}r2:{${hash}}:${generation}:kaputt`
  await redis.set(key, Buffer.from([1, 2, 3]), 'PX', 5000)
  t.equal(await a.get(TENANT_B, 'kaputt'), undefined, 'too short for a header')
  const header = Buffer.alloc(12)
  header.writeDoubleLE(Date.now(), 0)
  header.writeUInt32LE(1000, 8)
  await redis.set(key, header, 'PX', 5000)
  t.equal(await a.get(TENANT_B, 'kaputt'), undefined, 'fewer slots than it claims')
  redis.disconnect()
})

t.test('a write through one instance voids the other\'s L1 entry before its message arrives', needsRedis(), async (t) => {
  const [a, b] = await sharedPair()
  await b.fill(TENANT_A, ROUTE, async () => listBody('vorher'))
  t.equal((await b.lookup(TENANT_A, ROUTE)).outcome, 'hit-l1', 'B serves from memory')
  // Another instance's INCR whose pub/sub message B has not processed yet.
  const redis = new Redis(redisUrl())
  await redis.incr(`${prefix}g:{${tenantKeyName(TENANT_A)}}`)
  redis.disconnect()
  t.equal((await b.lookup(TENANT_A, ROUTE)).outcome, 'miss', 'B confirms the generation and misses')
  await a.invalidateTenant(TENANT_A)
  t.equal(await b.get(TENANT_A, ROUTE), undefined, 'and again after A\'s own invalidation, at once')
})

t.test('concurrent lookups share the generation reads, but never one sent before they began', needsRedis(), async (t) => {
  const relay = await redisRelay(redisUrl())
  t.teardown(() => relay.cut())
  // Commands may take the relay's 2 × 100 ms below: a timed-out GET would make the lookups serve L1 alone.
  const b = cache({ redis: relay.url, redisCommandTimeoutMs: 2000 })
  await until(() => b.l2Available, 'the cache to reach Redis through the relay')
  await b.fill(TENANT_A, ROUTE, async () => listBody('vorher'))
  t.equal((await b.lookup(TENANT_A, ROUTE)).outcome, 'hit-l1')

  const before = b.counts.generationReads
  const outcomes = await Promise.all(Array.from({ length: 50 }, () => b.lookup(TENANT_A, ROUTE)))
  t.same(new Set(outcomes.map((o) => o.outcome)), new Set(['hit-l1']), 'fifty hits')
  t.ok(b.counts.generationReads - before <= 2, `fifty lookups, ${b.counts.generationReads - before} GETs`)

  // A GET that Redis answered before a write, still on its way back when the writer's next read
  // begins, must not answer that read: it would hide the write (read-your-writes across instances).
  relay.delayMs = 100
  const early = b.lookup(TENANT_A, ROUTE)
  await sleep(130) // the early GET has reached Redis; its answer is on its way back
  const redis = new Redis(redisUrl())
  await redis.incr(`${prefix}g:{${tenantKeyName(TENANT_A)}}`)
  redis.disconnect()
  const late = await b.lookup(TENANT_A, ROUTE)
  t.equal(late.outcome, 'miss', 'the lookup after the write waits for a GET sent after it began')
  await early
})

t.test('a write whose tenant cannot be told voids every tenant on every instance', needsRedis(), async (t) => {
  const invalidations: string[] = []
  const [a, b] = await sharedPair({ onInvalidated: (cause) => invalidations.push(cause) })
  await a.fill(TENANT_A, ROUTE, async () => listBody('a'))
  await a.fill(TENANT_B, ROUTE, async () => listBody('b'))
  await untilInRedis(TENANT_B, ROUTE)
  t.equal((await b.lookup(TENANT_B, ROUTE)).outcome, 'hit-l2', 'B has it from Redis')
  await a.invalidateEverything()
  t.equal(await a.get(TENANT_A, ROUTE), undefined, 'A: tenant A gone')
  t.equal(await a.get(TENANT_B, ROUTE), undefined, 'A: tenant B gone')
  t.equal(await b.get(TENANT_B, ROUTE), undefined, 'B: tenant B gone, from L1 and Redis')
  t.ok(invalidations.includes('write'), 'reported as a write')
})

t.test('with a change feed following, an entry lives past maxStaleMs until a change or a gap', async (t) => {
  const only = cache({ maxStaleMs: 50, changeFeedMaxStaleMs: 10_000 })
  await only.fill(TENANT_A, ROUTE, async () => listBody('ungefolgt'), true)
  await sleep(80)
  t.equal((await only.lookup(TENANT_A, ROUTE, true)).outcome, 'stale', 'loaded before the feed followed: the ttl bound holds')
  only.followingChanges(TENANT_A, Date.now())
  await only.fill(TENANT_A, ROUTE, async () => listBody('gefolgt'), true)
  await sleep(80)
  t.equal((await only.lookup(TENANT_A, ROUTE)).outcome, 'stale', 'a caller not trusting the feed keeps the ttl bound')
  await only.fill(TENANT_A, ROUTE, async () => listBody('gefolgt'), true)
  await sleep(80)
  t.equal((await only.lookup(TENANT_A, ROUTE, true)).outcome, 'hit-l1', 'trusted past maxStaleMs')
  await only.changed(TENANT_A)
  t.equal((await only.lookup(TENANT_A, ROUTE, true)).outcome, 'miss', 'a change voids it')
  await only.fill(TENANT_A, ROUTE, async () => listBody('wieder'), true)
  await only.lostChanges(TENANT_A)
  t.equal((await only.lookup(TENANT_A, ROUTE, true)).outcome, 'miss', 'a gap voids it')
  await only.fill(TENANT_A, ROUTE, async () => listBody('ohne'), true)
  await sleep(80)
  t.equal((await only.lookup(TENANT_A, ROUTE, true)).outcome, 'stale', 'and after the gap the ttl bound holds again')
})

t.test('past maxStaleMs, an entry whose database is unchanged is revalidated instead of reloaded', async (t) => {
  // 300 ms, past it by sleeping 350: a lookup right after a revalidation must still be within the bound
  // on a busy machine.
  const only = cache({ maxStaleMs: 300 })
  let loads = 0
  const load = (validator: string | undefined, marker: string) => async () => {
    loads++
    return validator === undefined ? listBody(marker) : { body: listBody(marker), validator }
  }
  let state = 's1'
  let checks = 0
  const revalidate = async (validator: string): Promise<boolean> => {
    checks++
    await sleep(5)
    return validator === state
  }
  await only.fill(TENANT_A, ROUTE, load('s1', 'eins'))
  await sleep(350)
  const many = await Promise.all(Array.from({ length: 20 }, () => only.lookup(TENANT_A, ROUTE, false, revalidate)))
  t.same([...new Set(many.map((m) => m.outcome))], ['revalidated'], 'served, as revalidated')
  t.equal(checks, 1, 'twenty lookups of the stale entry ask the database once')
  t.equal(blanked(many[0]!.body), listBody('eins').toString().replace(/"(?:responseTimestamp|deliveryTimestamp)":"x"/g, '~'), 'the entry\'s answer, with fresh timestamps')
  t.equal((await only.lookup(TENANT_A, ROUTE, false, revalidate)).outcome, 'hit-l1', 'and its bound starts again')
  t.equal(checks, 1)

  await sleep(350)
  state = 's2'
  t.equal((await only.lookup(TENANT_A, ROUTE, false, revalidate)).outcome, 'stale', 'a changed database: stale')
  t.equal((await only.lookup(TENANT_A, ROUTE, false, revalidate)).outcome, 'miss', 'and the entry is gone')
  t.equal(loads, 1, 'the cache itself never loads')

  await only.fill(TENANT_A, ROUTE, load('s2', 'zwei'))
  await sleep(350)
  const failing = async (): Promise<boolean> => {
    throw new Error('database away')
  }
  t.equal((await only.lookup(TENANT_A, ROUTE, false, failing)).outcome, 'stale', 'a check that fails is a no')

  await only.fill(TENANT_A, ROUTE, load('s2', 'drei'))
  await sleep(350)
  const writeMeanwhile = async (validator: string): Promise<boolean> => {
    await only.invalidateTenant(TENANT_A)
    return validator === state
  }
  t.equal((await only.lookup(TENANT_A, ROUTE, false, writeMeanwhile)).outcome, 'stale', 'a write seen during the check: not renewed')

  await only.fill(TENANT_A, ROUTE, load('s2', 'vier'))
  await sleep(350)
  const slow = async (validator: string): Promise<boolean> => {
    await sleep(350)
    return validator === state
  }
  t.equal((await only.lookup(TENANT_A, ROUTE, false, slow)).outcome, 'stale', 'a check slower than the bound confirms too old a state')

  await only.fill(TENANT_A, ROUTE, load(undefined, 'ohne'))
  await sleep(350)
  checks = 0
  t.equal((await only.lookup(TENANT_A, ROUTE, false, revalidate)).outcome, 'stale', 'a load without a validator cannot be revalidated')
  t.equal(checks, 0)
  await only.fill(TENANT_A, ROUTE, load('s2', 'fünf'))
  await sleep(350)
  t.equal((await only.lookup(TENANT_A, ROUTE)).outcome, 'stale', 'nor can a caller that gives no way to check')
})
