// Two Authorization lines, or a comma list in one (issue 26 point 4): the legacy joins repeated lines
// with `, ` and refuses the result, while Node keeps only the first line in `req.headers`. Such a
// request reaches the legacy with both lines as received, and no fast path answers it.
import t from 'tap'
import { EventBus, type ProxyEvent } from '../../core/events.ts'
import { startEchoUpstream } from './support/echo-upstream.ts'
import { proxyFor } from './support/proxy-under-test.ts'
import { basic, headerValue, rawExchange } from './support/raw-exchange.ts'
import { stubFastPath } from './support/stub-fast-paths.ts'

const KLEIN = basic('arz-klein', 'klein-Geheim2')
const GROSS = basic('arz-gross', 'gross-Geheim1')

function authorizationLines(rawHeaders: readonly string[]): string[] {
  return rawHeaders.filter((_, i) => i % 2 === 1 && rawHeaders[i - 1]!.toLowerCase() === 'authorization')
}

t.test('two Authorization headers reach the legacy as two lines and no fast path answers them', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  const events = new EventBus()
  const seen: ProxyEvent[] = []
  events.on((event) => { if (event.type === 'fast.deferred') seen.push(event) })
  const list = stubFastPath('v2.rezept.list', 'answer')
  const pharmacy = stubFastPath('v2.rezept.pharmacy', 'answer')
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, flags: 'v2.rezept.list=on,v2.rezept.pharmacy=shadow' }, { fastPaths: [list, pharmacy], events })

  const single = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept', headers: ['Authorization', KLEIN] })
  t.match(headerValue(single.headers, 'server-timing'), /^fast;/, 'one Authorization line: the fast path answers')
  t.equal(list.calls, 1)

  const both = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept?pageSize=2', headers: ['Authorization', KLEIN, 'Accept', '*/*', 'authorization', GROSS] })
  t.equal(both.body.toString(), 'legacy GET /v2/rezept?pageSize=2', 'the legacy answers')
  t.match(headerValue(both.headers, 'server-timing'), /^legacy;/)
  t.equal(list.calls, 1, 'the fast path was not asked')
  t.same(authorizationLines(upstream.seen.at(-1)!.rawHeaders), [KLEIN, GROSS], 'the legacy got both lines, in order, unchanged')

  const listed = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept', headers: ['Authorization', `${KLEIN}, ${GROSS}`] })
  t.match(headerValue(listed.headers, 'server-timing'), /^legacy;/, 'a comma list in one line goes to the legacy too')
  t.equal(list.calls, 1)
  t.same(authorizationLines(upstream.seen.at(-1)!.rawHeaders), [`${KLEIN}, ${GROSS}`])

  const shadowed = await rawExchange(proxy.url, { method: 'GET', target: '/v2/rezept/status', headers: ['Authorization', KLEIN, 'Authorization', KLEIN] })
  t.match(headerValue(shadowed.headers, 'server-timing'), /^legacy;/, 'shadow: the legacy answers as always')
  t.same(authorizationLines(upstream.seen.at(-1)!.rawHeaders), [KLEIN, KLEIN], 'even two equal lines stay two')
  await new Promise((resolve) => setTimeout(resolve, 50))
  t.equal(pharmacy.calls, 0, 'shadow: no fast run to compare with an answer the legacy refuses')

  t.same(seen.map((e) => e.type === 'fast.deferred' && `${e.routeId} ${e.reason}`), [
    'v2.rezept.list ambiguous-credentials', 'v2.rezept.list ambiguous-credentials', 'v2.rezept.pharmacy ambiguous-credentials',
  ], 'each is counted as a deferral with its reason')
})
