// A bare HTTP server answering GET /v2/rezept(/status) from the fast paths alone (deferrals become 503), for bench/fast-path.ts.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'
import { EventBus } from '../proxy/events.ts'
import { createRezeptFastPaths, fastPathSettings } from '../routes/rezept-list/index.ts'

const fast = await createRezeptFastPaths(fastPathSettings({
  arzswUrl: process.env.ARZSW_URL!,
  maxPageSize: Number(process.env.LEGACY_MAX_PAGE_SIZE ?? 500),
  preparedStatements: process.env.PREPARED !== 'false',
  pool: { maxSize: Number(process.env.POOL_SIZE ?? 10) },
}), { events: new EventBus() })
const [list, pharmacy] = fast.paths
const never = new AbortController().signal
const server = createServer((req, res) => {
  const rawUrl = req.url ?? '/'
  const path = rawUrl.split('?')[0]!.toLowerCase()
  const route = path === '/v2/rezept/status' ? pharmacy! : list!
  route.handle({ routeId: route.routeId, method: req.method ?? 'GET', rawUrl, headers: req.headers }, never).then((outcome) => {
    if (outcome.kind === 'answer') {
      res.writeHead(outcome.status, { 'content-type': outcome.contentType, 'content-length': outcome.body.length })
      res.end(outcome.body)
    } else {
      res.writeHead(503, { 'x-defer-reason': outcome.reason })
      res.end()
    }
  }, () => { res.writeHead(500); res.end() })
})
server.keepAliveTimeout = 130_000
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  console.log(`fast-path bench server listening on http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
process.on('SIGTERM', () => {
  server.close()
  void fast.close().then(() => process.exit(0))
})
