// Heap growth of one big request (v2 list or v1 new), in-process: `node --expose-gc bench/probes/memory-probe.ts` with ARZSW_URL,
// MAX_PAGE_SIZE, BENCH_AUTH (Basic header value) and BENCH_PATHS (JSON array). Per path: one warm-up
// (statements prepared, credentials verified, pools open), a full GC, then the measured request, holding
// its answer. Prints one JSON line: heapUsed and arrayBuffers (Buffers live outside the JS heap) growth
// while the request ran (garbage included: the peak it needed, not only what it kept) and after a GC.
import { EventBus } from '../../core/events.ts'
import { createRezeptFastPaths, fastPathSettings } from '../../routes/v2-rezept-list/index.ts'
import { matchRoute } from '../../routes/route-table.ts'

const gc = (globalThis as { gc?: () => void }).gc
if (gc === undefined) throw new Error('run with node --expose-gc')
const mb = (bytes: number) => Math.round((bytes / 2 ** 20) * 10) / 10
const fast = await createRezeptFastPaths(fastPathSettings({
  arzswUrl: process.env.ARZSW_URL!,
  maxPageSize: Number(process.env.MAX_PAGE_SIZE),
  cache: { routes: { 'v2.rezept.list': 'off', 'v2.rezept.pharmacy': 'off' } },
}), { events: new EventBus() })
// Each path goes to the fast path of the route it matches (v2 lists, v1 new).
const pathFor = (rawUrl: string) => {
  const routeId = matchRoute('GET', rawUrl)?.id
  const path = fast.paths.find((p) => p.routeId === routeId)
  if (path === undefined) throw new Error(`${rawUrl}: no fast route`)
  return path
}
const never = new AbortController().signal
const results = []
for (const rawUrl of JSON.parse(process.env.BENCH_PATHS!) as string[]) {
  const list = pathFor(rawUrl)
  const request = { routeId: list.routeId, method: 'GET', rawUrl, headers: { authorization: process.env.BENCH_AUTH! } }
  const warm = await list.handle(request, never)
  if (warm.kind !== 'answer') throw new Error(`${rawUrl} deferred: ${warm.reason}`)
  gc()
  const before = process.memoryUsage()
  const outcome = await list.handle(request, never)
  const during = process.memoryUsage()
  gc()
  const after = process.memoryUsage()
  const bodyBytes = outcome.kind === 'answer' ? outcome.body.length : 0
  results.push({
    path: rawUrl, bodyMb: mb(bodyBytes),
    heapGrowthMb: mb(during.heapUsed - before.heapUsed), heapRetainedMb: mb(after.heapUsed - before.heapUsed),
    arrayBuffersGrowthMb: mb(during.arrayBuffers - before.arrayBuffers), rssMb: mb(during.rss),
  })
}
await fast.close()
console.log(JSON.stringify(results))
