// Proxy instances with the cache on, started as `npm start` starts them (proxy/instance.ts), in front of the legacy simulator
// on a seeded installation; and the means to write, read and compare through them.
import type { Test } from 'tap'
import pg from 'pg'
import { request } from 'undici'
import { loadConfig } from '../../config/load.ts'
import type { RunningProxy } from '../../proxy/app.ts'
import { EventBus, type ProxyEvent } from '../../core/events.ts'
import type { WiredFastPaths } from '../../proxy/fast-path-wiring.ts'
import { startInstance as startProxyInstance } from '../../proxy/instance.ts'
import { PRESCRIPTION_TYPES } from '../../sql/queries/prescription-types.ts'
import { blankVolatile } from '../routes/v2-rezept-list/comparison-fixture.ts'
export { seededRandom as randomSource } from '../support/seeded-random.ts'

export interface Instance {
  readonly proxy: RunningProxy
  readonly fast: WiredFastPaths
  readonly events: ProxyEvent[]
  readonly url: string
}

export interface Answer {
  readonly status: number
  readonly servedBy: string
  readonly body: Buffer
}

/**
 * `reloaded`, when given, is what the config file says at the next reload (POST /reload, SIGHUP):
 * further overrides on top of these. Without it a reload reads the same config again.
 */
export async function startInstance(t: Test, overrides: Record<string, unknown>, reloaded: () => Record<string, unknown> = () => ({})): Promise<Instance> {
  const read = (more: Record<string, unknown>) => loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides: { flags: 'v2.rezept.list=on,v2.rezept.pharmacy=on', ...overrides, ...more } })
  const config = read({})
  const bus = new EventBus()
  const events: ProxyEvent[] = []
  bus.on((event) => {
    if (event.type === 'cache.lookup' || event.type === 'cache.invalidated' || event.type === 'db.query' || event.type === 'fast.deferred' || event.type === 'shadow.compared') events.push(event)
  })
  const { proxy, fast, close } = await startProxyInstance(config, { events: bus, reloadConfig: () => read(reloaded()) })
  t.teardown(close)
  return { proxy, fast, events, url: proxy.url }
}

export function basic(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`
}

export async function get(base: string, target: string, authorization: string): Promise<Answer> {
  const res = await request(base + target, { headers: { authorization } })
  const body = Buffer.from(await res.body.arrayBuffer())
  return { status: res.statusCode, servedBy: String(res.headers['server-timing'] ?? '').split(';')[0]!, body }
}

export async function send(base: string, method: string, target: string, authorization: string, json: unknown): Promise<Answer> {
  const res = await request(base + target, { method: method as 'PATCH', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify(json) })
  const body = Buffer.from(await res.body.arrayBuffer())
  return { status: res.statusCode, servedBy: String(res.headers['server-timing'] ?? '').split(';')[0]!, body }
}

/** The body with its volatile timestamps blanked; throws when one is not in UtcNow form. */
export function comparable(body: Buffer): string {
  const blanked = blankVolatile(body)
  if (blanked.malformed.length > 0) throw new Error(`timestamps not in UtcNow form: ${blanked.malformed.join(', ')}`)
  return blanked.text
}

export interface Item {
  readonly type: string
  readonly rezeptUuid: string
}

export function itemsOf(body: Buffer): Item[] {
  return (JSON.parse(body.toString('utf8')) as { prescriptions: Item[] }).prescriptions
}

/**
 * New prescriptions whose daten row is their only one: setting its transfer_arz moves exactly that
 * uuid in or out of the list, so a test can predict membership.
 */
export async function toggleCandidates(tenantUrl: string, items: readonly Item[]): Promise<Item[]> {
  const client = new pg.Client({ connectionString: tenantUrl })
  await client.connect()
  try {
    const single = new Set<string>()
    for (const type of PRESCRIPTION_TYPES) {
      const rows = await client.query<{ rezept_uuid: string }>(
        `SELECT d.rezept_uuid FROM ${type.daten} d WHERE (SELECT count(*) FROM ${type.daten} o WHERE o.${type.mainId} = d.${type.mainId}) = 1`,
      )
      for (const row of rows.rows) single.add(row.rezept_uuid)
    }
    return items.filter((item) => single.has(item.rezeptUuid))
  } finally {
    await client.end()
  }
}

/** Sets transfer_arz of one prescription straight in the tenant database, as an import would. */
export async function setTransferDirectly(client: pg.Client, item: Item, value: boolean): Promise<void> {
  const type = PRESCRIPTION_TYPES.find((t) => t.name === item.type)!
  await client.query(`UPDATE ${type.daten} SET transfer_arz = $1 WHERE rezept_uuid = $2`, [value, item.rezeptUuid])
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))
