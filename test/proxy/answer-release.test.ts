// A fast answer's release() (the cache's hint that the memory may be reused) is called once the bytes
// are written, and never for an answer a sampled comparison keeps.
import t from 'tap'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import type { FastPath, FastPathOutcome } from '../../routes/contract.ts'
import { proxyFor } from './support/proxy-under-test.ts'

const BODY = Buffer.from('{"prescriptions":[],"totalCount":0,"responseTimestamp":"2026-11-23T10:00:00Z"}')
const legacy = http.createServer((_req, res) => {
  res.writeHead(200, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': BODY.length })
  res.end(BODY)
})
await new Promise<void>((resolve) => legacy.listen(0, '127.0.0.1', resolve))
t.teardown(() => new Promise<void>((resolve) => legacy.close(() => resolve())))
const legacyUrl = `http://127.0.0.1:${(legacy.address() as AddressInfo).port}`

function releasing(): FastPath & { released: number } {
  const path = {
    routeId: 'v2.rezept.list' as const,
    released: 0,
    async handle(): Promise<FastPathOutcome> {
      return { kind: 'answer', status: 200, contentType: 'application/json; charset=utf-8', body: BODY, servedBy: 'cache', release: () => void path.released++ }
    },
  }
  return path
}

for (const [samplePercent, expected] of [[0, 5], [100, 0]] as const) {
  t.test(`sample ${samplePercent} %: released ${expected} of 5`, async (t) => {
    const fast = releasing()
    const proxy = await proxyFor(t, { legacyUrl, flags: 'v2.rezept.list=on', 'shadow.samplePercent': samplePercent, 'shadow.sampleMaxPerSecond': 1000 }, { fastPaths: [fast] })
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${proxy.url}/v2/rezept?page=${i + 1}`)
      t.same(Buffer.from(await res.arrayBuffer()), BODY)
    }
    await proxy.shadowComparison.comparator.settled()
    await new Promise((resolve) => setTimeout(resolve, 20))
    t.equal(fast.released, expected)
  })
}
