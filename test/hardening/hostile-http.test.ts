// Hostile HTTP through the proxy, byte for byte: each request is either refused with 400 by the
// proxy (Node's parser, with the refusal audited) or passed to the legacy with the very target it
// sent — never answered by a fast path it was not meant for (Server-Timing says who answered).
import t from 'tap'
import { mkdtempSync, readFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEchoUpstream } from '../proxy/support/echo-upstream.ts'
import { proxyFor } from '../proxy/support/proxy-under-test.ts'
import { stubFastPath } from '../proxy/support/stub-fast-paths.ts'
import { sendRaw } from './raw-socket.ts'

const upstream = await startEchoUpstream()
t.teardown(() => upstream.close())
const auditFile = join(mkdtempSync(join(tmpdir(), 't_hard_')), 'audit.log')
const proxy = await proxyFor(t, {
  legacyUrl: upstream.url,
  flags: 'v2.rezept.list=on,v2.rezept.pharmacy=on',
  'audit.destination': auditFile,
}, { fastPaths: [stubFastPath('v2.rezept.list', 'answer'), stubFastPath('v2.rezept.pharmacy', 'answer')] })

const request = (target: string, extra = '') => `GET ${target} HTTP/1.1\r\nHost: proxy\r\n${extra}\r\n`

/** Framing Node's parser must refuse: request smuggling and header injection (RFC 9112 §6.3, §5.2). */
const REFUSED: ReadonlyArray<readonly [string, string]> = [
  ['Content-Length and Transfer-Encoding together', 'POST /v2/rezept/status HTTP/1.1\r\nHost: proxy\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'],
  ['two differing Content-Length headers', 'POST /v2/rezept/status HTTP/1.1\r\nHost: proxy\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'],
  ['a Content-Length list with differing values', 'POST /v2/rezept/status HTTP/1.1\r\nHost: proxy\r\nContent-Length: 1, 2\r\n\r\nab'],
  ['an obs-fold continuation line', request('/v2/rezept', 'X-Folded: a\r\n  b\r\n')],
  ['a bare CR inside a header value', request('/v2/rezept', 'X-Odd: a\rb\r\n')],
  ['a bare LF ending a header line', 'GET /v2/rezept HTTP/1.1\r\nHost: proxy\nX-Odd: a\r\n\r\n'],
  ['a NUL byte in a header value', request('/v2/rezept', 'X-Odd: a\u0000b\r\n')],
  ['a space in the request target', 'GET /v2/rezept x HTTP/1.1\r\nHost: proxy\r\n\r\n'],
  ['a header name with a space before the colon', request('/v2/rezept', 'Authorization : Basic eDp5\r\n')],
  ['Transfer-Encoding other than chunked last', 'POST /v2/rezept/status HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: chunked, identity\r\n\r\n0\r\n\r\n'],
  ['HTTP/1.1 without a Host header', 'GET /v2/rezept HTTP/1.1\r\n\r\n'],
  ['a byte above 0x7F in the path (invalid UTF-8)', request('/v2/rezept\xff')],
  ['an invalid UTF-8 sequence in the path', request('/v2/rezept\xc3\x28')],
  ['a chunk size that is not hex', 'POST /echo HTTP/1.1\r\nHost: proxy\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nab\r\n0\r\n\r\n'],
]

for (const [name, bytes] of REFUSED) {
  await t.test(`refused with 400: ${name}`, async (t) => {
    const reply = await sendRaw(proxy.url, bytes)
    t.equal(reply.status, 400, reply.text.slice(0, 80))
    // (Node answers a missing Host itself, as a response, and may keep the connection.)
    if (!name.includes('Host')) t.ok(reply.closed, 'the connection is closed after the refusal')
    t.notMatch(reply.text, /legacy GET|stub/, 'neither the legacy nor a fast path answered')
    const code = /HPE_[A-Z_]+|ERR_[A-Z_]+/
    t.ok(readAudit().some((line) => line.event === 'security.bad-request' && code.test(String(line.what))), 'refusals are audit lines')
  })
}

/**
 * Targets the route table must not take: they go to the legacy exactly as sent, and whatever the
 * legacy makes of them (Kestrel 404s most) is its answer, not a fast path's.
 */
const PASSED: readonly string[] = [
  '/v2/rezept%2F..',
  '/v2/rezept%2f..%2fstatus',
  '/v2/%72ezept',
  '/v2/./rezept',
  '/v2/rezept/.',
  '/v2/rezept/../rezept',
  '/v2/x/../rezept',
  '//v2/rezept',
  '/v2//rezept',
  '/v2/rezept;jsessionid=1',
  '/v2;x=1/rezept',
  '/v2/rezept\\status',
  '/v3/rezept',
  '/v2/rezepte',
  `/${'x/'.repeat(8000)}v2/rezept`,
]

for (const target of PASSED) {
  const shown = target.length > 60 ? `${target.slice(0, 40)}… (${target.length} bytes)` : JSON.stringify(target)
  await t.test(`passed through untouched: ${shown}`, async (t) => {
    const reply = await sendRaw(proxy.url, request(target))
    t.equal(reply.status, 200, reply.text.slice(0, 120))
    t.match(reply.text, /\r\nServer-Timing: legacy;dur=/, 'answered by the legacy')
    const body = reply.text.slice(reply.text.indexOf('\r\n\r\n') + 4)
    t.equal(body, `legacy GET ${target}`, 'the legacy saw the exact target')
  })
}

// Not origin-form: http-proxy-3 would hand these on as `/*` and `/http://…`, a target the client never
// sent, so the proxy refuses them itself (Kestrel refuses `GET *` alike; no ArzTi client sends either).
for (const target of ['*', 'http://evil.example/v2/rezept', 'http://proxy/v2/rezept?pageSize=1', 'proxy:80']) {
  await t.test(`refused with 400 by the proxy, not passed on altered: ${target}`, async (t) => {
    const reply = await sendRaw(proxy.url, request(target))
    t.equal(reply.status, 400, reply.text.slice(0, 80))
    t.notMatch(reply.text, /legacy GET|stub/)
    t.ok(readAudit().some((line) => line.event === 'security.bad-request' && String(line.what).includes('origin-form')), 'audited')
  })
}

await t.test('a 20 KB query string on an odd path reaches the legacy (which decides about its size)', async (t) => {
  const reply = await sendRaw(proxy.url, request(`/v2/rezept%2F?${'a'.repeat(20_000)}=1`))
  t.match(reply.text, /\r\nServer-Timing: legacy;dur=/, 'answered by the legacy, not refused by the proxy')
})

// docs/legacy-contract.md §3: paths are case-insensitive, `v2.0` is `v2`, a trailing slash is ignored.
for (const target of ['/V2/REZEPT', '/v2.0/Rezept/', '/v2/rezept/STATUS?pharmacyId=1', '/v2/rezept?page=1']) {
  await t.test(`matched as the legacy matches it: ${target}`, async (t) => {
    const reply = await sendRaw(proxy.url, request(target))
    t.equal(reply.status, 200)
    t.match(reply.text, /\r\nServer-Timing: fast;dur=/, 'the fast path answered')
  })
}

await t.test('a request line and headers over limits.maxHeaderBytes are refused with 431', async (t) => {
  const reply = await sendRaw(proxy.url, request('/v2/rezept', `X-Big: ${'a'.repeat(40_000)}\r\n`))
  t.equal(reply.status, 431)
  const within = await sendRaw(proxy.url, request('/echo/x', `X-Big: ${'a'.repeat(20_000)}\r\n`))
  t.match(within.text, /\r\nServer-Timing: legacy;dur=/, 'headers of 20 KB, which Kestrel accepts, are passed on (the echo upstream then refuses them itself)')
})

await t.test('a body above limits.maxBodyBytes is refused with 413 before anything reaches the legacy', async (t) => {
  const reply = await sendRaw(proxy.url, 'PATCH /v2/rezept/status HTTP/1.1\r\nHost: proxy\r\nContent-Length: 30000001\r\n\r\n{')
  t.equal(reply.status, 413, reply.text.slice(0, 120))
  t.match(reply.text, /X-Fastpath-Error: REQUEST_TOO_LARGE/)
  t.match(reply.text, /\r\n\r\nPayload Too Large$/)
})

t.test('no audit line holds a header value or body a hostile request sent', async (t) => {
  const text = readFileSync(auditFile, 'utf8')
  t.notMatch(text, /eDp5|X-Folded|Payload/)
  t.end()
})

function readAudit(): Array<Record<string, unknown>> {
  let text = ''
  try {
    text = readFileSync(auditFile, 'utf8')
  } catch {
    return []
  }
  return text.split('\n').filter((line) => line !== '').map((line) => JSON.parse(line) as Record<string, unknown>)
}
