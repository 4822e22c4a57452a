// The change feed against a real PostgreSQL with wal_level=logical: every commit in a published table is heard within 500 ms, nothing else is, and every gap is told.
import { once } from 'node:events'
import { readFile } from 'node:fs/promises'
import net from 'node:net'
import pg from 'pg'
import t, { type Test } from 'tap'
import { startEmbeddedPostgres, type EmbeddedPostgresHandle } from '../../proxy/demo/embedded-postgres.ts'
import { ChangeFeeds, type ChangeFeedError, type ChangeFeedOptions, type ChangeListener } from '../../cache/cdc/change-feed.ts'
import { parseTenantDatabase, type TenantDatabase } from '../../tenants/npgsql-connection-string.ts'
import { standbyStatusUpdate } from '../../cache/cdc/replication-messages.ts'
import { PRESCRIPTION_TYPES } from '../../sql/queries/prescription-types.ts'
import { fastPathSettings } from '../../config/fast-path.ts'

const TENANT_DB = 't_cdc_tenant'
const NOPUB_DB = 't_cdc_nopub'
const PUBLISHED_TABLES = PRESCRIPTION_TYPES.flatMap((type) => [type.main, type.daten, type.status])
// The tables a change can be written to without a delivery header: daten and status rows of every type.
const WRITABLE = PRESCRIPTION_TYPES.flatMap((type) => [
  { table: type.daten, id: type.datenId, insert: `INSERT INTO ${type.daten} (rezept_uuid, xml_request) VALUES (gen_random_uuid()::text, '<x/>')`, update: `transfer_arz = NOT transfer_arz` },
  { table: type.status, id: type.statusId, insert: `INSERT INTO ${type.status} (rezept_status) VALUES ('VOR_PRUEFUNG')`, update: `rezept_check = NOT rezept_check` },
])
const FAST: ChangeFeedOptions = { publication: 'fastpath_changes', reconnectMs: 50, maxReconnectMs: 400, statusIntervalMs: 200, connectTimeoutMs: 2000 }

let server: EmbeddedPostgresHandle
let admin: pg.Client
let writer: pg.Client
let port: number
let password: string

t.before(async () => {
  server = await startEmbeddedPostgres({ settings: { wal_level: 'logical' } })
  const url = new URL(server.adminUrl)
  port = Number(url.port)
  password = decodeURIComponent(url.password)
  admin = new pg.Client({ connectionString: server.adminUrl })
  await admin.connect()
  const schema = await readFile(new URL('../../sql/legacy/apoti.sql', import.meta.url), 'utf8')
  for (const name of [TENANT_DB, NOPUB_DB]) {
    await admin.query(`CREATE DATABASE ${name}`)
    const client = new pg.Client({ connectionString: urlOf(name) })
    await client.connect()
    await client.query(schema)
    await client.end()
  }
  writer = new pg.Client({ connectionString: urlOf(TENANT_DB) })
  await writer.connect()
  await writer.query(`CREATE PUBLICATION fastpath_changes FOR TABLE ${PUBLISHED_TABLES.join(', ')}`)
  await writer.query(`INSERT INTO er_apotheke (apotheke_name, apo_ik_nr) VALUES ('Apotheke am Markt', 308412345)`)
  for (const w of WRITABLE) await writer.query(`${w.insert}, ${w.insert.slice(w.insert.indexOf('VALUES') + 7)}`)
})

t.teardown(async () => {
  await writer?.end().catch(() => {})
  await admin?.end().catch(() => {})
  await server?.stop()
})

function urlOf(database: string): string {
  const url = new URL(server.adminUrl)
  url.pathname = `/${database}`
  return url.toString()
}

function tenant(database: string, options: { user?: string; password?: string; port?: number } = {}): TenantDatabase {
  return parseTenantDatabase(`Host=127.0.0.1;Port=${options.port ?? port};Database=${database};Username=${options.user ?? 'postgres'};Password=${options.password ?? password}`)
}

type Heard =
  | { readonly type: 'following'; readonly tenantId: string; readonly since: number; readonly at: number }
  | { readonly type: 'changed'; readonly tenantId: string; readonly at: number }
  | { readonly type: 'lost'; readonly tenantId: string; readonly error: ChangeFeedError; readonly at: number }

/** A listener that writes down what it hears and lets a test wait for it. */
class Recorder implements ChangeListener {
  readonly heard: Heard[] = []
  #wake: (() => void) | undefined

  following(tenantId: string, since: number): void { this.#add({ type: 'following', tenantId, since, at: performance.now() }) }
  changed(tenantId: string): void { this.#add({ type: 'changed', tenantId, at: performance.now() }) }
  lost(tenantId: string, error: ChangeFeedError): void { this.#add({ type: 'lost', tenantId, error, at: performance.now() }) }

  count(type: Heard['type'], tenantId?: string): number {
    return this.heard.filter((h) => h.type === type && (tenantId === undefined || h.tenantId === tenantId)).length
  }

  last<T extends Heard['type']>(type: T): Extract<Heard, { type: T }> {
    return this.heard.findLast((h) => h.type === type) as Extract<Heard, { type: T }>
  }

  /** Resolves once `type` has been heard `n` times in all; fails after `timeoutMs`. */
  async until(type: Heard['type'], n: number, timeoutMs = 5000): Promise<void> {
    const deadline = performance.now() + timeoutMs
    while (this.count(type) < n) {
      const left = deadline - performance.now()
      if (left <= 0) throw new Error(`heard ${this.count(type)} × ${type}, waited for ${n}: ${JSON.stringify(this.heard.map((h) => h.type))}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left)
        this.#wake = () => { clearTimeout(timer); resolve() }
      })
    }
  }

  #add(heard: Heard): void {
    this.heard.push(heard)
    this.#wake?.()
  }
}

async function startFollowing(t: Test, options: ChangeFeedOptions = FAST): Promise<{ feeds: ChangeFeeds; recorder: Recorder; database: TenantDatabase }> {
  const recorder = new Recorder()
  const feeds = new ChangeFeeds(options, recorder)
  t.teardown(() => feeds.close())
  const database = tenant(TENANT_DB)
  feeds.follow(database.identity, database)
  await recorder.until('following', 1)
  return { feeds, recorder, database }
}

async function randomChange(): Promise<void> {
  const w = WRITABLE[Math.floor(Math.random() * WRITABLE.length)]!
  const op = Math.random()
  if (op < 0.4) {
    await writer.query(w.insert)
  } else if (op < 0.8) {
    // Always hits a row: the before hook gave every table two, and a delete below keeps one.
    await writer.query(`UPDATE ${w.table} SET ${w.update} WHERE ${w.id} = (SELECT max(${w.id}) FROM ${w.table})`)
  } else {
    // A commit without a row change (PostgreSQL before 15 still streams its Begin and Commit): no report.
    await writer.query(`INSERT INTO ${w.table} SELECT * FROM ${w.table} WHERE false`)
    // One commit that inserts a row and deletes the oldest: the table never runs empty.
    await writer.query(`WITH added AS (${w.insert} RETURNING 1) DELETE FROM ${w.table} WHERE ${w.id} = (SELECT min(${w.id}) FROM ${w.table})`)
  }
}

async function replicationSlots(): Promise<number> {
  return Number((await admin.query('SELECT count(*) FROM pg_replication_slots')).rows[0].count)
}

async function walsenders(database = TENANT_DB): Promise<number> {
  return Number((await admin.query(`SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'walsender' AND datname = $1`, [database])).rows[0].count)
}

async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!
}

t.test('a fresh slot is followed once per tenant, from an instant after it was made', async (t) => {
  const before = Date.now()
  const { feeds, recorder, database } = await startFollowing(t)
  const heard = recorder.last('following')
  t.equal(heard.tenantId, database.identity)
  t.ok(heard.since >= before && heard.since <= Date.now(), 'since lies between follow() and the report')
  t.ok(feeds.isFollowing(database.identity))
  t.notOk(feeds.isFollowing('another tenant'))
  feeds.follow(database.identity, database)
  feeds.follow(database.identity, tenant(TENANT_DB))
  t.equal(await walsenders(), 1, 'one stream however often follow() is called')
  const slot = (await admin.query(`SELECT temporary, plugin, slot_type FROM pg_replication_slots`)).rows
  t.same(slot, [{ temporary: true, plugin: 'pgoutput', slot_type: 'logical' }], 'a temporary pgoutput slot')
})

t.test('INSERT, UPDATE, DELETE and TRUNCATE in a published table are each reported within 500 ms', async (t) => {
  const { recorder } = await startFollowing(t)
  const latencies: number[] = []
  // From the commit's reply to the report: negative when the feed heard the commit first.
  const afterReply: number[] = []
  const daten = PRESCRIPTION_TYPES[1]!.daten
  const statements = [
    `INSERT INTO ${daten} (rezept_uuid, xml_request) VALUES (gen_random_uuid()::text, '<x/>')`,
    `UPDATE ${daten} SET transfer_arz = true WHERE id_senderezepte_prezept_daten = (SELECT max(id_senderezepte_prezept_daten) FROM ${daten})`,
    `DELETE FROM ${daten} WHERE id_senderezepte_prezept_daten = (SELECT max(id_senderezepte_prezept_daten) FROM ${daten})`,
    `UPDATE ${PRESCRIPTION_TYPES[2]!.status} SET rezept_status = 'ABGERECHNET'`,
    `TRUNCATE ${PRESCRIPTION_TYPES[2]!.status}`,
    `INSERT INTO ${PRESCRIPTION_TYPES[2]!.status} (rezept_status) VALUES ('VOR_PRUEFUNG'), ('VOR_PRUEFUNG')`,
  ]
  for (let round = 0; round < 5; round++) {
    for (const sql of statements) {
      const n = recorder.count('changed')
      // From sending the statement: an upper bound of commit → report (the report can beat the reply).
      const sent = performance.now()
      await writer.query(sql)
      const returned = performance.now()
      await recorder.until('changed', n + 1, 2000)
      latencies.push(recorder.last('changed').at - sent)
      afterReply.push(recorder.last('changed').at - returned)
    }
  }
  const max = Math.max(...latencies)
  t.comment(`statement sent → changed over ${latencies.length} commits: median ${percentile(latencies, 50).toFixed(1)} ms, p95 ${percentile(latencies, 95).toFixed(1)} ms, max ${max.toFixed(1)} ms; reply → changed median ${percentile(afterReply, 50).toFixed(1)} ms, max ${Math.max(...afterReply).toFixed(1)} ms`)
  t.ok(max < 500, `every change reported within 500 ms (max ${max.toFixed(1)} ms)`)
  t.equal(recorder.count('changed'), latencies.length, 'one report per commit')
})

t.test('200 random commits are 200 reports; a transaction of many rows is one; an unpublished table is none', async (t) => {
  const { recorder } = await startFollowing(t)
  const started = performance.now()
  for (let i = 0; i < 200; i++) await randomChange()
  await recorder.until('changed', 200, 5000)
  t.comment(`200 commits written and all reported in ${(performance.now() - started).toFixed(0)} ms`)

  await writer.query('BEGIN')
  for (const w of WRITABLE) await writer.query(w.insert)
  await writer.query(`UPDATE ${WRITABLE[0]!.table} SET ${WRITABLE[0]!.update}`)
  await writer.query('COMMIT')
  await writer.query(`UPDATE er_apotheke SET ort = 'Berlin'`)
  await writer.query(`INSERT INTO er_apotheke (apotheke_name, apo_ik_nr) VALUES ('Filiale', 308412346)`)
  await writer.query(`BEGIN; UPDATE ${WRITABLE[1]!.table} SET ${WRITABLE[1]!.update}; ROLLBACK`)
  // A last published commit: the stream is in commit order, so once it is heard everything before it was.
  await writer.query(WRITABLE[2]!.insert)
  await recorder.until('changed', 202, 2000)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(recorder.count('changed'), 202, 'none missed, none extra: the many-row transaction once, er_apotheke and the rollback never')
  t.equal(recorder.count('lost'), 0)
  // Confirmed positions advance, so the server may recycle WAL behind the slot.
  const end = (await writer.query('SELECT pg_current_wal_lsn()::text AS lsn')).rows[0].lsn
  await eventually('the slot confirms everything written', async () =>
    (await admin.query(`SELECT bool_and(confirmed_flush_lsn >= $1::pg_lsn) AS done FROM pg_replication_slots WHERE database = $2`, [end, TENANT_DB])).rows[0].done === true)
})

t.test('a killed walsender is reported lost, then followed again from a new slot', async (t) => {
  const { feeds, recorder, database } = await startFollowing(t)
  const firstSince = recorder.last('following').since
  await admin.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE backend_type = 'walsender' AND datname = $1`, [TENANT_DB])
  await recorder.until('lost', 1, 3000)
  const lost = recorder.last('lost')
  t.equal(lost.tenantId, database.identity)
  t.equal(lost.error.code, 'CDC_STREAM_BROKEN')
  t.match(lost.error.message, /127\.0\.0\.1:\d+\/t_cdc_tenant broke.*terminat/)
  t.notOk(lost.error.message.includes(password), 'the password stays out of the message')
  t.notOk(feeds.isFollowing(database.identity), 'not following while the gap lasts')
  await recorder.until('following', 2, 3000)
  t.ok(recorder.last('following').since > firstSince, 'a later since: entries from before the gap are not vouched for')
  t.ok(feeds.isFollowing(database.identity))
  const n = recorder.count('changed')
  await writer.query(WRITABLE[0]!.insert)
  await recorder.until('changed', n + 1, 2000)
  t.pass('changes heard again on the new stream')
})

t.test('a missing publication is lost once with a useful message, and followed once it is created', async (t) => {
  const recorder = new Recorder()
  const feeds = new ChangeFeeds(FAST, recorder)
  t.teardown(() => feeds.close())
  const database = tenant(NOPUB_DB)
  feeds.follow(database.identity, database)
  await recorder.until('lost', 1, 3000)
  const { error } = recorder.last('lost')
  t.equal(error.code, 'CDC_PUBLICATION_MISSING')
  t.match(error.message, /127\.0\.0\.1:\d+\/t_cdc_nopub: publication "fastpath_changes" does not exist/)
  // Retries every 50 to 400 ms meanwhile, each failing the same way: told once, not once per retry.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.equal(recorder.count('lost'), 1, 'no repeat of the same loss')
  t.notOk(feeds.isFollowing(database.identity))
  const nopub = new pg.Client({ connectionString: urlOf(NOPUB_DB) })
  await nopub.connect()
  t.teardown(() => nopub.end())
  await nopub.query(`CREATE PUBLICATION fastpath_changes FOR TABLE ${PUBLISHED_TABLES.join(', ')}`)
  await recorder.until('following', 1, 3000)
  await nopub.query(WRITABLE[3]!.insert)
  await recorder.until('changed', 1, 2000)
  t.pass('the retry found the new publication')
})

t.test('a stream that could not start says why: no REPLICATION privilege, no server', async (t) => {
  await admin.query(`CREATE ROLE t_cdc_reader LOGIN PASSWORD 'reader-Geheim1'`)
  t.teardown(() => admin.query('DROP ROLE t_cdc_reader'))
  const recorder = new Recorder()
  const feeds = new ChangeFeeds(FAST, recorder)
  t.teardown(() => feeds.close())
  const reader = tenant(TENANT_DB, { user: 't_cdc_reader', password: 'reader-Geheim1' })
  feeds.follow(reader.identity, reader)
  const closedPort = await freePortNumber()
  const gone = tenant(TENANT_DB, { port: closedPort })
  feeds.follow(gone.identity, gone)
  await recorder.until('lost', 2, 5000)
  const byTenant = new Map(recorder.heard.map((h) => [h.tenantId, h]))
  const denied = byTenant.get(reader.identity) as Extract<Heard, { type: 'lost' }>
  t.equal(denied.error.code, 'CDC_UNAVAILABLE')
  t.match(denied.error.message, /could not start: .*(permission denied|REPLICATION)/i)
  const refused = byTenant.get(gone.identity) as Extract<Heard, { type: 'lost' }>
  t.equal(refused.error.code, 'CDC_UNAVAILABLE')
  t.match(refused.error.message, new RegExp(`127\\.0\\.0\\.1:${closedPort}/t_cdc_tenant could not start`))
  t.notOk(refused.error.message.includes('reader-Geheim1') || denied.error.message.includes('reader-Geheim1'))
})

t.test('a stream that goes silent is lost after three status intervals', async (t) => {
  const relay = await startRelay(port)
  t.teardown(() => relay.close())
  const recorder = new Recorder()
  const feeds = new ChangeFeeds({ ...FAST, reconnectMs: 60_000, maxReconnectMs: 60_000 }, recorder)
  t.teardown(() => feeds.close())
  const database = tenant(TENANT_DB, { port: relay.port })
  feeds.follow(database.identity, database)
  await recorder.until('following', 1)
  // Quiet for longer than the silence bound: the server's keepalive replies keep the stream alive.
  await new Promise((resolve) => setTimeout(resolve, 1000))
  t.ok(feeds.isFollowing(database.identity), 'a quiet database is not a silent stream')
  relay.freeze()
  const frozenAt = performance.now()
  await recorder.until('lost', 1, 3000)
  const lost = recorder.last('lost')
  t.equal(lost.error.code, 'CDC_SERVER_SILENT')
  t.ok(lost.at - frozenAt < 1500, `noticed ${(lost.at - frozenAt).toFixed(0)} ms after the path froze`)
  t.notOk(feeds.isFollowing(database.identity))
  await eventually('the connection behind the dead path is cut, and with it the walsender and its slot', async () => (await walsenders()) === 0)
})

t.test('close() ends every stream and leaves no replication slot behind', async (t) => {
  await eventually('the slots of earlier tests gone', async () => (await replicationSlots()) === 0)
  const recorder = new Recorder()
  const feeds = new ChangeFeeds(FAST, recorder)
  const first = tenant(TENANT_DB)
  feeds.follow(first.identity, first)
  const nopub = tenant(NOPUB_DB)
  feeds.follow(nopub.identity, nopub)
  await recorder.until('following', 2)
  t.equal(await replicationSlots(), 2)
  await feeds.close()
  t.notOk(feeds.isFollowing(first.identity))
  await eventually('no replication slot left', async () => (await replicationSlots()) === 0)
  await eventually('no walsender left', async () => (await walsenders(TENANT_DB)) + (await walsenders(NOPUB_DB)) === 0)
  feeds.follow(first.identity, first)
  await new Promise((resolve) => setTimeout(resolve, 200))
  t.equal(await walsenders(), 0, 'follow() after close() starts nothing')
  t.equal(recorder.count('lost'), 0, 'closing is not a loss')

  // Closed while still connecting or waiting to retry: nothing is left either.
  const late = new ChangeFeeds(FAST, recorder)
  late.follow(first.identity, first)
  const gone = tenant(TENANT_DB, { port: await freePortNumber() })
  late.follow(gone.identity, gone)
  await recorder.until('lost', 1, 3000)
  await late.close()
  await eventually('no replication slot left after an early close', async () => (await replicationSlots()) === 0)
  await new Promise((resolve) => setTimeout(resolve, 300))
  t.equal(await walsenders(), 0)
})

t.test('a listener that throws or rejects does not stop the stream', async (t) => {
  const recorder = new Recorder()
  let calls = 0
  const feeds = new ChangeFeeds(FAST, {
    following: (id, since) => recorder.following(id, since),
    changed: (id) => {
      recorder.changed(id)
      if (++calls % 2 === 0) return Promise.reject(new Error('listener rejected'))
      throw new Error('listener threw')
    },
    lost: (id, error) => recorder.lost(id, error),
  })
  t.teardown(() => feeds.close())
  const database = tenant(TENANT_DB)
  feeds.follow(database.identity, database)
  await recorder.until('following', 1)
  for (let i = 0; i < 4; i++) await writer.query(WRITABLE[i]!.insert)
  await recorder.until('changed', 4, 2000)
  t.ok(feeds.isFollowing(database.identity))
  t.equal(recorder.count('lost'), 0)
})

t.test('options are checked once, naming the option', async (t) => {
  const listener = new Recorder()
  t.throws(() => new ChangeFeeds({ publication: 'x', connectTimeoutMs: 1000, reconnectMs: 0 }, listener), /reconnectMs must be a positive integer/)
  t.throws(() => new ChangeFeeds({ publication: 'x', connectTimeoutMs: 1000, statusIntervalMs: 1.5 }, listener), /statusIntervalMs/)
  // The publication is a setting: refused by the configuration (config/load.ts), which the feeds take as given.
  t.throws(() => fastPathSettings({ arzswUrl: 'postgres://x@h/db', cache: { publication: '' } }), /fastPath.cache.publication: must not be empty/)
  await new ChangeFeeds({ publication: 'x', connectTimeoutMs: 1000 }, listener).close()
})

t.test('a standby status update confirms one LSN thrice with a PostgreSQL timestamp', async (t) => {
  const message = standbyStatusUpdate(0x1_0000_00ffn, Date.UTC(2000, 0, 1, 0, 0, 1), true)
  t.equal(message.length, 34)
  t.equal(String.fromCharCode(message[0]!), 'r')
  for (const offset of [1, 9, 17]) t.equal(message.readBigUInt64BE(offset), 0x1_0000_00ffn)
  t.equal(message.readBigInt64BE(25), 1_000_000n, 'microseconds since 2000-01-01')
  t.equal(message[33], 1)
  t.equal(standbyStatusUpdate(0n, Date.now(), false)[33], 0, 'no reply asked')
})

async function freePortNumber(): Promise<number> {
  const probe = net.createServer()
  probe.listen(0, '127.0.0.1')
  await once(probe, 'listening')
  const { port: free } = probe.address() as net.AddressInfo
  probe.close()
  await once(probe, 'close')
  return free
}

/** A TCP relay to the server that can stop passing bytes without closing anything: a path gone dead. */
async function startRelay(target: number): Promise<{ port: number; freeze(): void; close(): Promise<void> }> {
  let frozen = false
  const sockets = new Set<net.Socket>()
  const relay = net.createServer((inbound) => {
    const outbound = net.connect(target, '127.0.0.1')
    for (const socket of [inbound, outbound]) {
      sockets.add(socket)
      socket.on('error', () => {})
    }
    inbound.on('data', (data) => { if (!frozen) outbound.write(data) })
    outbound.on('data', (data) => { if (!frozen) inbound.write(data) })
    inbound.on('close', () => outbound.destroy())
    outbound.on('close', () => inbound.destroy())
  })
  relay.listen(0, '127.0.0.1')
  await once(relay, 'listening')
  return {
    port: (relay.address() as net.AddressInfo).port,
    freeze: () => { frozen = true },
    close: async () => {
      for (const socket of sockets) socket.destroy()
      relay.close()
      await once(relay, 'close')
    },
  }
}
