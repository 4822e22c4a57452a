// Issue 24, wired: the fast paths' factory gives its verifier the shared outcomes, so a second set of
// fast paths (another instance, or this one after a restart) serves a user the first one verified
// without running BCrypt. Real Redis, a real seeded installation, the factory as npm start builds it.
import { randomUUID } from 'node:crypto'
import { Redis } from 'ioredis'
import t from 'tap'
import { EventBus, type ProxyEvent } from '../../core/events.ts'
import { createRezeptFastPaths, fastPathSettings, type RezeptFastPaths } from '../../routes/v2-rezept-list/index.ts'
import { urlForDatabase } from '../../sql/seed/database-setup.ts'
import { seed, SEED_USERS } from '../../sql/seed/seed.ts'
import { needsRedis, pgAdminUrl, redisUrl } from '../../dev/services.ts'
import { basicAuthorization } from '../routes/v2-rezept-list/cases.ts'

const PREFIX = `t24w:${randomUUID().slice(0, 8)}:`
const SECRET = 'issue-24-wiring-secret-of-at-least-32-characters'
// arz-gross's password is a BCrypt hash in the seed: its first check runs BCrypt.
const USER = SEED_USERS.find((u) => u.login === 'arz-gross')!

t.test('a user verified by one set of fast paths is served by a second without BCrypt', needsRedis(), async (t) => {
  const report = await seed({ adminUrl: pgAdminUrl(), prefix: 't_auth_wired_', rows: 0, kleinRows: 0 })
  const arzswUrl = urlForDatabase(pgAdminUrl(), report.databases.arzsw)
  const redis = new Redis(redisUrl(), { maxRetriesPerRequest: 1 })
  t.teardown(async () => {
    const keys = await redis.keys(`${PREFIX}*`)
    if (keys.length > 0) await redis.del(...keys)
    redis.disconnect()
  })
  const instance = async (): Promise<{ fast: RezeptFastPaths; outcomes: string[] }> => {
    const events = new EventBus()
    const outcomes: string[] = []
    events.on((event: ProxyEvent) => { if (event.type === 'auth.checked') outcomes.push(event.outcome) })
    const settings = fastPathSettings({ arzswUrl, maxPageSize: 500, environment: 'Test', redisUrl: redisUrl(), redisKeyPrefix: PREFIX, redisKeySecret: SECRET })
    const fast = await createRezeptFastPaths(settings, { events })
    t.teardown(() => fast.close())
    return { fast, outcomes }
  }
  const ask = async (fast: RezeptFastPaths) => {
    const path = fast.paths.find((p) => p.routeId === 'v2.rezept.list')!
    return path.handle({ routeId: 'v2.rezept.list', method: 'GET', rawUrl: '/v2/rezept?pageSize=5', headers: { authorization: basicAuthorization(USER.login, USER.password) } }, new AbortController().signal)
  }

  const first = await instance()
  t.equal((await ask(first.fast)).kind, 'answer', 'the first instance answers')
  t.same(first.outcomes, ['verified'], 'after one BCrypt')
  t.ok(await redis.keys(`${PREFIX}*`).then((keys) => keys.length > 0), 'and leaves the outcome in Redis')

  const second = await instance()
  t.equal((await ask(second.fast)).kind, 'answer', 'the second instance answers')
  t.same(second.outcomes, ['cached'], 'from the outcome in Redis: no BCrypt ran there')
})
