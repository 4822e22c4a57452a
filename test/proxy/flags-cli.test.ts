// `npm run flags`, run as operators and scripts run it, against running proxies: human lines or the
// API's JSON, before and after of every change, whether every instance took it (and no such claim
// without Redis), and exit codes 0 done, 1 refused or failed, 2 usage (issue 17).
import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import t from 'tap'
import { deleteRedisKeys, needsRedis, redisUrl } from '../../dev/services.ts'
import { startEchoUpstream } from './support/echo-upstream.ts'
import { proxyFor } from './support/proxy-under-test.ts'

const ROOT = new URL('../..', import.meta.url).pathname
const CLI = new URL('../../proxy/flags-cli.ts', import.meta.url).pathname
const TOKEN = 'flags-cli-token-0123456789abcdef'

interface Run {
  readonly code: number
  readonly stdout: string
  readonly stderr: string
}

function run(command: string, args: readonly string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(command, args, { cwd: ROOT, env: { ...process.env, FASTPATH_ADMIN_TOKEN: TOKEN, ...env }, timeout: 30_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr })
    })
  })
}
const flags = (...args: string[]) => run(process.execPath, [CLI, ...args])

const upstream = await startEchoUpstream()
t.teardown(() => upstream.close())

t.test('list and set, as a person reads them: before and after, and "this instance only" without Redis', async (t) => {
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, 'admin.token': TOKEN })
  // Once through npm itself: the script is wired.
  const list = await run('npm', ['run', '--silent', 'flags', '--', 'list', '--admin', proxy.adminUrl])
  t.equal(list.code, 0, list.stderr)
  t.match(list.stdout, /^v2\.rezept\.list\s+off\nv2\.rezept\.pharmacy\s+off\nv1\.prescriptions\.new\s+off\nv2\.rezept\.statusuuid\s+off\n$/, 'one line per route with its mode')

  const set = await flags('set', 'v2.rezept.list', 'canary:10', '--admin', proxy.adminUrl)
  t.equal(set.code, 0, set.stderr)
  t.equal(set.stdout, 'v2.rezept.list: off -> canary:10\ntaken by this instance only: no Redis is configured; set it on each instance\n')
  t.same(proxy.flags.get('v2.rezept.list'), { mode: 'canary', percent: 10 }, 'the proxy has it')
  const again = await flags('set', 'v2.rezept.list', 'canary:10', '--admin', proxy.adminUrl)
  t.match(again.stdout, /^v2\.rezept\.list: canary:10 -> canary:10 \(it already was\)\n/, 'a repeat says nothing changed')

  const json = await flags('set', 'v2.rezept.list', 'shadow', '--admin', proxy.adminUrl, '--json')
  t.equal(json.code, 0)
  t.same(JSON.parse(json.stdout), { routeId: 'v2.rezept.list', from: { mode: 'canary', percent: 10 }, flag: { mode: 'shadow' }, changed: true, propagated: false, instances: 'this instance only: no Redis is configured' }, '--json: the admin API\'s answer')
  const listed = await flags('list', '--json', `--admin=${proxy.adminUrl}`)
  t.same(JSON.parse(listed.stdout), { 'v2.rezept.list': { mode: 'shadow' }, 'v2.rezept.pharmacy': { mode: 'off' }, 'v1.prescriptions.new': { mode: 'off' }, 'v2.rezept.statusuuid': { mode: 'off' } })
})

t.test('with Redis: "every instance", and the other instance has it', needsRedis(), async (t) => {
  const prefix = `t_flags_cli:${randomUUID()}:`
  t.teardown(() => deleteRedisKeys(prefix))
  const shared = { legacyUrl: upstream.url, 'admin.token': TOKEN, redisUrl: redisUrl(), redisKeyPrefix: prefix }
  const a = await proxyFor(t, shared)
  const b = await proxyFor(t, shared)
  const set = await flags('set', 'v2.rezept.pharmacy', 'on', '--admin', a.adminUrl)
  t.equal(set.code, 0, set.stderr)
  t.equal(set.stdout, 'v2.rezept.pharmacy: off -> on\ntaken by every instance (stored in Redis)\n')
  const started = performance.now()
  while (b.flags.get('v2.rezept.pharmacy').mode !== 'on' && performance.now() - started < 3000) await new Promise((r) => setTimeout(r, 20))
  t.equal(b.flags.get('v2.rezept.pharmacy').mode, 'on', 'the other instance took it')
})

t.test('exit codes scripts can use: 1 refused or unreachable, 2 usage', async (t) => {
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, 'admin.token': TOKEN })
  const wrongToken = await run(process.execPath, [CLI, 'list', '--admin', proxy.adminUrl], { FASTPATH_ADMIN_TOKEN: 'wrong' })
  t.equal(wrongToken.code, 1, 'a wrong token: 1')
  t.match(wrongToken.stderr, /refused \(401\)/)
  const down = await flags('list', '--admin', 'http://127.0.0.1:9')
  t.equal(down.code, 1, 'no admin API there: 1')
  t.match(down.stderr, /did not answer/)
  for (const args of [[], ['frobnicate'], ['set', 'v2.rezept.list'], ['set', 'v9.nothing', 'on'], ['set', 'v2.rezept.list', 'fast'], ['set', 'v2.rezept.list', 'canary:101'], ['list', '--admin'], ['list', '--bogus']]) {
    const wrong = await flags(...args, ...(args.includes('--admin') ? [] : ['--admin', proxy.adminUrl]))
    t.equal(wrong.code, 2, `${JSON.stringify(args)}: 2`)
    t.match(wrong.stderr, /usage: npm run flags/, 'with the usage')
  }
  t.equal(proxy.flags.get('v2.rezept.list').mode, 'off', 'nothing was changed by any of them')
})

t.test('a mode the proxy refuses (on without the legacy\'s settings known): exit 1 with its reason', async (t) => {
  const unset = { maxPageSize: null, environment: null, 'avsSystem.manufacturer': null, 'avsSystem.name': null, 'avsSystem.version': null }
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, 'admin.token': TOKEN, ...unset })
  const set = await flags('set', 'v2.rezept.list', 'on', '--admin', proxy.adminUrl)
  t.equal(set.code, 1)
  t.match(set.stderr, /refused \(409\): mode "on" refused: .*probe user/)
  const json = await flags('set', 'v2.rezept.list', 'on', '--admin', proxy.adminUrl, '--json')
  t.equal(json.code, 1)
  t.match(JSON.parse(json.stdout), { status: 409, error: /probe user/ }, '--json: the status and the API\'s error')
})
