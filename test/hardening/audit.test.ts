// The audit trail (issue 9.4): each admin action (a flag PUT, a demotion, a reload by POST /reload or
// SIGHUP, a rejected reload) and each security event (a failed-login burst, a limit hit, a hostile
// request refused) is exactly one JSON line with who, what and when, in the audit destination and
// not in the access log, and no line holds a password, an Authorization value, a token, a
// connection string or patient data. Each subtest has a proxy and an audit file of its own.
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Writable } from 'node:stream'
import pino from 'pino'
import { loadConfig } from '../../config/load.ts'
import { createLogger } from '../../proxy/event-log.ts'
import { EventBus } from '../../core/events.ts'
import { auditEvents, createAuditLogger } from '../../proxy/audit-log.ts'
import type { ProxyDeps, RunningProxy } from '../../proxy/app.ts'
import { basic, rawExchange } from '../proxy/support/raw-exchange.ts'
import { proxyFor } from '../proxy/support/proxy-under-test.ts'
import { stubFastPath } from '../proxy/support/stub-fast-paths.ts'
import { sendRaw } from './raw-socket.ts'

const GOOD = basic('arz-klein', 'klein-Geheim2')
const ADMIN_TOKEN = 'Adm1n-Token-streng-geheim'
const ARZSW_PASSWORD = 'ArzSw-Db-Geheim-42'
const PATIENT_UUID = '5b0c6f0e-7a51-4f7e-9d43-2c1e8f3a9b10'
const PATIENT_XML = '<Patient><Name>Erika Mustermann</Name><Geburtsdatum>1964-08-12</Geburtsdatum></Patient>'
const MAIN = new URL('../../proxy/main.ts', import.meta.url).pathname
const folder = mkdtempSync(join(tmpdir(), 't_audit_'))

// The legacy stand-in: one good password (docs/legacy-contract.md §2: 401 with an empty body otherwise), JSON for the list.
const upstream = http.createServer((req, res) => {
  req.resume()
  if (req.headers.authorization !== GOOD) {
    res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="ArzTi3 API", charset="UTF-8"', 'Content-Length': 0 })
    return void res.end()
  }
  const body = Buffer.from(JSON.stringify({ legacy: true, rezeptUuid: PATIENT_UUID }))
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length })
  res.end(body)
})
await new Promise<void>((resolve) => upstream.listen(0, '127.0.0.1', resolve))
t.teardown(() => new Promise<void>((resolve) => upstream.close(() => resolve())))
const legacyUrl = `http://127.0.0.1:${(upstream.address() as AddressInfo).port}`

const BASE = {
  legacyUrl,
  // Credentials in the config: should anything copy the config into a line, the check below sees it.
  arzswUrl: `postgres://fastpath:${ARZSW_PASSWORD}@127.0.0.1:1/arzsw`,
  'admin.token': ADMIN_TOKEN,
  logLevel: 'debug',
}
const ADMIN = { authorization: `Bearer ${ADMIN_TOKEN}`, 'x-admin-user': 'ops-anna' }

type AuditLine = Record<string, unknown> & { event: string; time: string; who: unknown }

interface Audited {
  readonly proxy: RunningProxy
  readonly file: string
  /** The access log: the operational pino log at debug, where every answered request is a line. */
  readonly access: string[]
  lines(): AuditLine[]
}

let instances = 0
async function audited(t: Test, overrides: Record<string, unknown>, deps: ProxyDeps = {}): Promise<Audited> {
  const file = join(folder, `audit-${++instances}.log`)
  const access: string[] = []
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      access.push(...chunk.toString().split('\n').filter(Boolean))
      done()
    },
  })
  const logger = createLogger('debug', sink)
  const proxy = await proxyFor(t, { ...BASE, 'audit.destination': file, ...overrides }, { logger, ...deps })
  return { proxy, file, access, lines: () => readLines(file) }
}

function readLines(file: string): AuditLine[] {
  if (!existsSync(file)) return []
  return readFileSync(file, 'utf8').split('\n').filter(Boolean).map((line) => JSON.parse(line) as AuditLine)
}

/** The one line of `event`, checked for who/what/when and for being in the audit log only. */
function theLine(t: Test, audit: Audited, event: string): AuditLine {
  const lines = audit.lines().filter((line) => line.event === event)
  t.equal(lines.length, 1, `exactly one ${event} line`)
  const line = lines[0] ?? ({} as AuditLine)
  t.equal(line.log, 'audit', 'marked as an audit line')
  t.ok(Math.abs(Date.parse(line.time) - Date.now()) < 60_000, `when: an ISO time (${line.time})`)
  t.ok(line.who !== undefined && line.who !== null && line.who !== '', `who: ${JSON.stringify(line.who)}`)
  t.notOk(audit.access.some((text) => text.includes(`"event":"${event}"`) || text.includes('"log":"audit"')), 'not in the access log')
  return line
}

const waitFor = async (what: string, ok: () => boolean, ms = 3000): Promise<void> => {
  const deadline = performance.now() + ms
  while (!ok()) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 20))
  }
}

const get = (url: string, authorization?: string, target = '/api/Apotheken') =>
  rawExchange(url, { method: 'GET', target, headers: authorization ? ['Authorization', authorization] : [] })

const admin = (audit: Audited, method: string, path: string, body?: unknown) =>
  fetch(`${audit.proxy.adminUrl}${path}`, { method, headers: ADMIN, ...(body === undefined ? {} : { body: JSON.stringify(body) }) })

await t.test('a flag change through the admin API: one flag.changed line naming the admin, the route, old and new', async (t) => {
  const audit = await audited(t, {})
  t.equal((await admin(audit, 'PUT', '/flags/v2.rezept.pharmacy', { mode: 'canary', percent: 10 })).status, 200)
  const line = theLine(t, audit, 'flag.changed')
  t.equal(line.who, 'ops-anna@127.0.0.1', 'the X-Admin-User and the address')
  t.equal(line.source, 'admin')
  t.same(line.what, { routeId: 'v2.rezept.pharmacy', from: 'off', to: 'canary:10' })
  t.notOk(audit.access.some((text) => text.includes('flag changed')), 'one line per change: the operational log does not repeat it')
  await get(audit.proxy.url, GOOD)
  t.ok(audit.access.some((text) => text.includes('"msg":"request served"')), 'requests go to the access log')
  const times = audit.access.map((text) => (JSON.parse(text) as { time: unknown }).time)
  t.ok(times.length > 0 && times.every((time) => typeof time === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/.test(time)), `the operational log's times are ISO 8601 UTC, as the audit log's (${String(times[0])})`)
  t.match(line.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
  t.notOk(audit.lines().some((line) => line.event === 'request.served' || line.msg === 'request served'), 'and never to the audit log')
})

await t.test('a demotion: one route.demoted line with the reason, and the flag change it caused', async (t) => {
  const audit = await audited(t, { flags: 'v2.rezept.list=shadow' }, { fastPaths: [stubFastPath('v2.rezept.list', 'answer')] })
  t.equal((await get(audit.proxy.url, GOOD, '/v2/rezept')).status, 200, 'the legacy answers in shadow mode')
  await waitFor('the demotion', () => audit.proxy.flags.get('v2.rezept.list').mode === 'off')
  const line = theLine(t, audit, 'route.demoted')
  t.equal(line.who, 'shadow-comparison')
  t.match(line.what, { routeId: 'v2.rezept.list', reason: /mismatch/ })
  const changes = audit.lines().filter((l) => l.event === 'flag.changed')
  t.same(changes.map((l) => [l.source, l.who, l.what]), [['demotion', 'demotion', { routeId: 'v2.rezept.list', from: 'shadow', to: 'off' }]], 'the switch-off, once')
})

await t.test('a reload by POST /reload: one config.reloaded line naming the admin and what changed; a rejected one says so without quoting the file', async (t) => {
  const directory = join(folder, 'reload-config')
  mkdirSync(directory, { recursive: true })
  const good = readFileSync(new URL('../../config/test.json', import.meta.url), 'utf8')
  writeFileSync(join(directory, 'test.json'), good)
  const overrides = { ...BASE, flags: 'v2.rezept.list=shadow' }
  let next: Record<string, unknown> = overrides
  const audit: Audited = await audited(t, overrides, {
    reloadConfig: () => loadConfig({ env: { FASTPATH_ENV: 'test' }, directory, overrides: { ...next, 'audit.destination': audit.file } }),
  })
  next = { ...overrides, flags: 'v2.rezept.list=on', 'upstream.headersTimeoutMs': 1234 }
  const reloaded = await admin(audit, 'POST', '/reload')
  t.equal(reloaded.status, 200)
  const line = theLine(t, audit, 'config.reloaded')
  t.equal(line.who, 'ops-anna@127.0.0.1')
  t.equal(line.ok, true)
  t.same(line.what, { changed: ['flags', 'upstream.headersTimeoutMs'] }, 'the names of the options that changed, not their values')

  // A broken file whose token is not quoted: V8's message would quote the text around it.
  writeFileSync(join(directory, 'test.json'), good.replace('"port": 0,', `"port": 0, "admin": { "token": ${ADMIN_TOKEN} },`))
  t.equal((await admin(audit, 'POST', '/reload')).status, 500, 'the reload is refused')
  const refused = audit.lines().filter((l) => l.event === 'config.reloaded' && l.ok === false)
  t.equal(refused.length, 1, 'one line for the refused reload')
  t.match(refused[0]?.error, /cannot be read as JSON/, 'saying why')
  t.notOk(readFileSync(audit.file, 'utf8').includes(ADMIN_TOKEN.slice(0, 8)), 'without any piece of the token')
  t.notOk(audit.access.join('\n').includes(ADMIN_TOKEN.slice(0, 8)), 'in the operational log neither')
})

await t.test('a reload by SIGHUP (npm start): one config.reloaded line with who SIGHUP, in the audit file, not on stdout', async (t) => {
  const file = join(folder, 'sighup.log')
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, FASTPATH_ENV: 'test', LEGACY_URL: legacyUrl, LOG_LEVEL: 'info', REDIS_URL: '', ARZSW_URL: '', AUDIT_LOG: file },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => void (child.exitCode === null && child.kill('SIGKILL')))
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  await waitFor('the proxy to listen', () => output.includes('proxy listening') || child.exitCode !== null, 20_000)
  child.kill('SIGHUP')
  await waitFor('the reload line', () => readLines(file).some((l) => l.event === 'config.reloaded'), 5000)
  child.kill('SIGTERM')
  await once(child, 'exit')
  const lines = readLines(file).filter((l) => l.event === 'config.reloaded')
  t.equal(lines.length, 1, 'exactly one config.reloaded line')
  t.match(lines[0], { log: 'audit', who: 'SIGHUP', ok: true, what: { changed: [] } })
  t.ok(Math.abs(Date.parse(lines[0]!.time) - Date.now()) < 60_000, 'with its time')
  t.notMatch(output, /"log":"audit"/, 'the operational log on stdout has no audit line')
})

await t.test('a failed-login burst: one security.auth-burst line with the login, the address and the request id', async (t) => {
  const audit = await audited(t, { 'limits.enabled': true, 'limits.authFailures.maxFailures': 3, 'limits.unverified.loginBurst': 100 })
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push((await get(audit.proxy.url, basic(`guess-${i}`, `Rate-Passwort-${i}`))).status)
  t.same(statuses, [401, 401, 401, 429, 429, 429], 'three failures, then the address is throttled')
  const line = theLine(t, audit, 'security.auth-burst')
  t.match(line.who, { login: 'guess-2', clientAddress: '127.0.0.1' })
  t.match(line.what, /3 failed logins from this address/)
  t.type(line.requestId, 'string')
  const throttled = audit.lines().filter((l) => l.event === 'security.auth-throttled')
  t.same(throttled.map((l) => (l.who as { login: string }).login), ['guess-3', 'guess-4', 'guess-5'], 'each refusal that followed: a line per login (repeats of one login are folded)')
})

await t.test('a limit hit: one security.rate-limited line however many requests were refused', async (t) => {
  const audit = await audited(t, { 'limits.enabled': true, 'limits.unverified.loginPerSecond': 0.01, 'limits.unverified.loginBurst': 2, 'limits.authFailures.maxFailures': 100 })
  const stranger = basic('nobody', 'Nobody-Passwort-1')
  const statuses: number[] = []
  for (let i = 0; i < 6; i++) statuses.push((await get(audit.proxy.url, stranger)).status)
  t.same(statuses, [401, 401, 429, 429, 429, 429])
  const line = theLine(t, audit, 'security.rate-limited')
  t.match(line.who, { login: 'nobody', clientAddress: '127.0.0.1' })
  t.ok(Number(line.retryAfterS) >= 1, 'with the Retry-After given')
})

await t.test('a hostile request refused: one security.bad-request line, without its target, headers or body', async (t) => {
  const audit = await audited(t, {})
  const smuggled = `POST /v2/rezept/${PATIENT_UUID}/status HTTP/1.1\r\nHost: proxy\r\nAuthorization: ${GOOD}\r\n` +
    `Content-Length: ${PATIENT_XML.length}\r\nTransfer-Encoding: chunked\r\n\r\n${PATIENT_XML}`
  const reply = await sendRaw(audit.proxy.url, smuggled)
  t.equal(reply.status, 400)
  const line = theLine(t, audit, 'security.bad-request')
  t.match(line.who, { clientAddress: '127.0.0.1' })
  t.match(line.what, /^400 /, 'what: the status and the parser\'s code')
})

await t.test('the audit consumer strips credentials from the free texts events carry', async (t) => {
  const file = join(folder, 'consumer.log')
  const events = new EventBus()
  const stop = auditEvents(events, createAuditLogger(file)!)
  events.emit({ type: 'config.reloaded', by: 'SIGHUP', ok: false, changed: [], error: `connect to postgres://fastpath:${ARZSW_PASSWORD}@db/arzsw refused` })
  events.emit({ type: 'route.demoted', routeId: 'v2.rezept.list', reason: `Host=db;Password=${ARZSW_PASSWORD};Database=klein` })
  events.emit({ type: 'security', kind: 'bad-request', clientAddress: '10.0.0.1', detail: `400 ${GOOD}` })
  stop()
  const text = readFileSync(file, 'utf8')
  t.equal(text.split('\n').filter(Boolean).length, 3, 'three lines')
  t.notOk(text.includes(ARZSW_PASSWORD), 'no password from a URL or a connection string')
  t.notOk(text.includes(GOOD.slice(6)), 'no Authorization value')
  t.match(text, /postgres:\/\/\[redacted\]@db/, 'what is left still says where')
})

t.test('no audit line anywhere holds a password, an Authorization value, a token, a connection string or patient data', async (t) => {
  const text = [...Array.from({ length: instances }, (_, i) => join(folder, `audit-${i + 1}.log`)), join(folder, 'sighup.log')]
    .filter(existsSync).map((file) => readFileSync(file, 'utf8')).join('\n')
  t.ok(text.length > 0)
  const forbidden: ReadonlyArray<readonly [string, RegExp]> = [
    ['a password', /klein-Geheim2|Rate-Passwort|Nobody-Passwort|ArzSw-Db-Geheim/],
    ['an Authorization value', /Basic |Bearer |YXJ6LWtsZWlu/],
    ['piece of the admin token', new RegExp(ADMIN_TOKEN.slice(0, 8))],
    ['a connection string', /postgres:\/\/|redis:\/\/|Password=|Host=/i],
    ['patient data', new RegExp(`${PATIENT_UUID}|Mustermann|<Patient>`)],
  ]
  for (const [what, pattern] of forbidden) t.notMatch(text, pattern, `no ${what}`)
})
