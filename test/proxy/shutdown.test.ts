// Graceful shutdown under load: a bounded undici loop keeps the proxy busy, shutdown begins in the
// middle, and every request the proxy accepted is answered; later ones are refused at connect.
import t from 'tap'
import { Pool } from 'undici'
import { startEchoUpstream } from './support/echo-upstream.ts'
import { proxyFor } from './support/proxy-under-test.ts'

t.test('shutdown under load finishes every accepted request and loses none', async (t) => {
  const upstream = await startEchoUpstream()
  t.teardown(() => upstream.close())
  upstream.mode = 'slow'
  upstream.delayMs = 20
  const proxy = await proxyFor(t, { legacyUrl: upstream.url, shutdownGraceMs: 5000 })
  const pool = new Pool(proxy.url, { connections: 8, pipelining: 1 })
  t.teardown(() => pool.destroy())

  let answered = 0
  let refused = 0
  let answeredAfterShutdown = 0
  const lost: string[] = []
  let shuttingDown: Promise<void> | undefined
  const MAX_REQUESTS = 600
  let sent = 0
  const worker = async () => {
    while (sent < MAX_REQUESTS && refused === 0) {
      sent++
      try {
        const answer = await pool.request({ method: 'GET', path: `/load/${sent}` })
        const body = await answer.body.text()
        if (answer.statusCode === 200 && body.startsWith('legacy GET /load/')) {
          answered++
          if (shuttingDown) answeredAfterShutdown++
        } else lost.push(`status ${answer.statusCode}: ${body}`)
      } catch (error) {
        const code = (error as { code?: string; cause?: { code?: string } }).code
        const cause = (error as { cause?: { code?: string } }).cause?.code
        if (code === 'ECONNREFUSED' || cause === 'ECONNREFUSED') refused++
        else lost.push(`${code ?? ''} ${cause ?? ''} ${(error as Error).message}`)
      }
      if (answered === 100 && !shuttingDown) shuttingDown = proxy.shutdown()
    }
  }
  await Promise.all(Array.from({ length: 16 }, worker))
  await shuttingDown
  t.same(lost, [], 'no request was lost: every one was answered or refused before being accepted')
  t.ok(answered >= 100, `answered ${answered}`)
  t.ok(answeredAfterShutdown > 0, `requests in flight at shutdown were finished (${answeredAfterShutdown})`)
  t.ok(refused > 0 || sent >= MAX_REQUESTS, 'after shutdown new connections are refused')
  const closing = performance.now()
  while (upstream.openSockets() > 0 && performance.now() - closing < 2000) await new Promise((r) => setTimeout(r, 10))
  t.equal(upstream.openSockets(), 0, 'the upstream connections are released')
})
