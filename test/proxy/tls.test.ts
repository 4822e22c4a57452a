// TLS on both sides of the proxy (issue 9, point 5), with certificates openssl makes for this run:
// HTTPS clients get the legacy's bytes; SIGHUP swaps the certificate for new handshakes while open
// connections keep working, and a broken one is refused and audited; HTTPS to the legacy is verified
// against upstream.caFile, and a certificate of any other CA is a 502 that never reaches the legacy.
import { spawn } from 'node:child_process'
import { X509Certificate } from 'node:crypto'
import { once } from 'node:events'
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs'
import https from 'node:https'
import { join } from 'node:path'
import tls, { type TLSSocket } from 'node:tls'
import t from 'tap'
import { loadConfig } from '../../config/load.ts'
import { startLegacySim, type LegacySimHandle } from '../../legacy-sim/server.ts'
import { startProxy } from '../../proxy/app.ts'
import { LegacyReader } from '../../proxy/shadow/legacy-reader.ts'
import { seed, seedDatabaseNames, SEED_USERS } from '../../sql/seed/seed.ts'
import { databaseUrl, pgAdminUrl } from '../../dev/services.ts'
import { makeTestCertificates, type TestCertificates, type TestKeyPair } from '../support/test-certificates.ts'
import { startEchoUpstream } from './support/echo-upstream.ts'
import { basic, comparableHeaders, headerValue, maskVolatile, rawExchange, type RawRequest } from './support/raw-exchange.ts'
import { proxyFor } from './support/proxy-under-test.ts'

const PREFIX = 't_tls_'
const MAIN = new URL('../../proxy/main.ts', import.meta.url).pathname
const gross = SEED_USERS[0]!
const good = basic(gross.login, gross.password)

// The simulator checks bcrypt hashes: on a busy 2-core box the first answer can take longer than the
// test config's 5 s headers timeout, which would turn a parity case into a 504.
const PATIENT = { 'upstream.headersTimeoutMs': 30_000 }

const CASES: readonly (RawRequest & { name: string })[] = [
  { name: 'a page of prescriptions', method: 'GET', target: '/v2/rezept?pageSize=3', headers: ['Authorization', good] },
  { name: 'wrong credentials', method: 'GET', target: '/v2/rezept', headers: ['Authorization', basic(gross.login, 'wrong')] },
  { name: 'HEAD of the health route', method: 'HEAD', target: '/api/Health/arzsw' },
  { name: 'a chunked PATCH body', method: 'PATCH', target: '/v2/rezept/statusuuid', headers: ['Authorization', good, 'Content-Type', 'application/json'], body: [Buffer.from('{"rezeptUuids":'), Buffer.from('["a","b"]}')] },
  { name: 'an unknown path', method: 'GET', target: '/nothing/here' },
]

const certs = makeTestCertificates()
if (certs === undefined) t.fail('openssl is not installed (Debian package "openssl"): the TLS tests cannot make their certificates')
else tlsTests(certs)

function tlsTests(certs: TestCertificates): void {
  t.teardown(() => certs.remove())
  const fingerprint = (pair: TestKeyPair) => new X509Certificate(readFileSync(pair.certFile)).fingerprint256
  /** The files the proxy serves: a copy, so a test can rotate or break them in place. */
  const liveFiles = (name: string, from: TestKeyPair): TestKeyPair => {
    const live = { certFile: join(certs.dir, `${name}.pem`), keyFile: join(certs.dir, `${name}.key`) }
    install(from, live)
    return live
  }
  const tlsOptions = (live: TestKeyPair) => ({ 'tls.certFile': live.certFile, 'tls.keyFile': live.keyFile })

  let plainSim: LegacySimHandle
  let httpsSim: LegacySimHandle
  t.before(async () => {
    await seed({ adminUrl: pgAdminUrl(), prefix: PREFIX, rows: 300, kleinRows: 300 })
    const arzswUrl = databaseUrl(seedDatabaseNames(PREFIX).arzsw)
    plainSim = await startLegacySim({ arzswUrl })
    httpsSim = await startLegacySim({ arzswUrl, tls: { cert: readFileSync(certs.server.certFile, 'utf8'), key: readFileSync(certs.server.keyFile, 'utf8') } })
  })
  t.teardown(async () => {
    await plainSim?.close()
    await httpsSim?.close()
  })

  t.test('an HTTPS client gets the same answers through the proxy as a plain-HTTP client from the legacy', async (t) => {
    const proxy = await proxyFor(t, { ...PATIENT, legacyUrl: plainSim.url, ...tlsOptions(liveFiles('parity', certs.server)) })
    t.match(proxy.url, /^https:\/\/127\.0\.0\.1:\d+$/, 'the client listener is HTTPS')
    for (const c of CASES) {
      const request = { ...c, headers: ['Host', 'arzti.example:8443', ...(c.headers ?? [])] }
      const direct = await rawExchange(plainSim.url, request)
      const proxied = await rawExchange(proxy.url, request, 15_000, certs.ca)
      t.equal(proxied.status, direct.status, `${c.name}: status`)
      t.same(comparableHeaders(proxied.headers), comparableHeaders(direct.headers), `${c.name}: headers`)
      t.equal(maskVolatile(proxied.body), maskVolatile(direct.body), `${c.name}: body`)
    }
    t.equal((await rawExchange(proxy.url, CASES[0]!, 15_000, certs.ca)).status, 200, 'the seeded user really is let in')
    const plain = proxy.url.replace('https:', 'http:')
    await t.rejects(rawExchange(plain, CASES[2]!, 2000), 'plain HTTP on the HTTPS port gets no answer')
  })

  t.test('the legacy learns that the client came over HTTPS (X-Forwarded-Proto)', async (t) => {
    const upstream = await startEchoUpstream()
    t.teardown(() => upstream.close())
    const proxy = await proxyFor(t, { legacyUrl: upstream.url, ...tlsOptions(liveFiles('proto', certs.server)) })
    const answer = await rawExchange(proxy.url, { method: 'GET', target: '/echo' }, 15_000, certs.ca)
    const seen = JSON.parse(answer.body.toString()) as { rawHeaders: string[] }
    t.equal(seen.rawHeaders[seen.rawHeaders.indexOf('X-Forwarded-Proto') + 1], 'https')
  })

  t.test('tls.minVersion TLSv1.3 refuses a TLSv1.2 handshake', async (t) => {
    const upstream = await startEchoUpstream()
    t.teardown(() => upstream.close())
    const proxy = await proxyFor(t, { legacyUrl: upstream.url, ...tlsOptions(liveFiles('v13', certs.server)), 'tls.minVersion': 'TLSv1.3' })
    const { port } = new URL(proxy.url)
    const handshake = (maxVersion: tls.SecureVersion) => new Promise<string>((resolve, reject) => {
      const socket = tls.connect({ host: '127.0.0.1', port: Number(port), ca: certs.ca, maxVersion }, () => {
        resolve(socket.getProtocol() ?? '')
        socket.end()
      })
      socket.on('error', reject)
    })
    t.equal(await handshake('TLSv1.3'), 'TLSv1.3')
    await t.rejects(handshake('TLSv1.2'), 'TLSv1.2 is refused')
  })

  t.test('a reload (SIGHUP) serves the new certificate to new connections while a kept-alive one keeps working', async (t) => {
    const upstream = await startEchoUpstream()
    t.teardown(() => upstream.close())
    const live = liveFiles('rotate', certs.server)
    const audit = join(certs.dir, 'rotate-audit.log')
    const proxy = await proxyFor(t, { legacyUrl: upstream.url, ...tlsOptions(live), 'audit.destination': audit })
    const kept = new https.Agent({ keepAlive: true, maxSockets: 1, ca: certs.ca })
    t.teardown(() => kept.destroy())

    const before = await get(kept, proxy.url, '/before')
    t.equal(before.fingerprint, fingerprint(certs.server), 'the first certificate is served')
    install(certs.rotated, live)
    t.same(await proxy.reload('SIGHUP'), ['tls.certFile'], 'the reload names the certificate as changed')

    const same = await get(kept, proxy.url, '/after')
    t.equal(same.status, 200, 'the kept-alive connection still gets answers')
    t.equal(same.body, 'legacy GET /after')
    t.ok(same.reused, 'on the same connection')
    t.equal(same.fingerprint, fingerprint(certs.server), 'which keeps the certificate it was opened with')
    const fresh = await get(new https.Agent({ ca: certs.ca }), proxy.url, '/fresh')
    t.equal(fresh.fingerprint, fingerprint(certs.rotated), 'a new connection gets the new certificate')
    t.match(readFileSync(audit, 'utf8'), /"event":"config.reloaded","who":"SIGHUP","ok":true,"what":\{"changed":\["tls.certFile"\]\}/, 'the rotation is audited')
  })

  t.test('a broken certificate on reload is refused, audited, and the old one stays served', async (t) => {
    const upstream = await startEchoUpstream()
    t.teardown(() => upstream.close())
    const live = liveFiles('broken', certs.server)
    const audit = join(certs.dir, 'broken-audit.log')
    const proxy = await proxyFor(t, { legacyUrl: upstream.url, ...tlsOptions(live), 'audit.destination': audit })
    // A half-done rotation: the new certificate is in place, its key is not.
    copyFileSync(certs.rotated.certFile, live.certFile)
    await t.rejects(proxy.reload('SIGHUP'), { code: 'CONFIG_INVALID' }, 'the reload is refused')
    t.match(readFileSync(audit, 'utf8'), /"event":"config.reloaded","who":"SIGHUP","ok":false.*this key does not belong to the certificate/, 'the refusal is audited with its reason')
    const after = await get(new https.Agent({ ca: certs.ca }), proxy.url, '/still')
    t.equal(after.status, 200)
    t.equal(after.fingerprint, fingerprint(certs.server), 'new connections still get the old certificate')
    writeFileSync(live.certFile, 'not a certificate')
    await t.rejects(proxy.reload('SIGHUP'), { message: /tls.certFile .*not a PEM certificate/ })
    t.equal((await get(new https.Agent({ ca: certs.ca }), proxy.url, '/still')).fingerprint, fingerprint(certs.server))
  })

  t.test('start-up refuses certificate, key and CA files it cannot use, naming the option', async (t) => {
    const start = (overrides: Record<string, unknown>) => startProxy(loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides: { legacyUrl: 'http://127.0.0.1:1', ...overrides } }))
    await t.rejects(start({ 'tls.certFile': certs.rotated.certFile, 'tls.keyFile': certs.server.keyFile }), { message: /tls\.keyFile .*does not belong to the certificate/ })
    await t.rejects(start({ 'tls.certFile': join(certs.dir, 'missing.pem'), 'tls.keyFile': certs.server.keyFile }), { message: /tls\.certFile .*missing\.pem\): cannot be read \(ENOENT\)/ })
    await t.rejects(start({ 'tls.certFile': certs.server.certFile, 'tls.keyFile': certs.server.certFile }), { message: /tls\.keyFile .*not an unencrypted PEM private key/ })
    await t.rejects(start({ 'upstream.caFile': certs.server.keyFile }), { message: /upstream\.caFile .*holds no PEM certificate/ })
    await t.rejects(start({ 'upstream.caFile': join(certs.dir, 'missing-ca.pem') }), { message: /upstream\.caFile .*cannot be read/ })
    t.throws(() => loadConfig({ env: { FASTPATH_ENV: 'test' }, overrides: { 'tls.certFile': certs.server.certFile } }), { message: /tls\.certFile and tls\.keyFile .*set both/ })

    const child = spawn(process.execPath, [MAIN], {
      env: { ...process.env, FASTPATH_ENV: 'test', LEGACY_URL: 'http://127.0.0.1:1', REDIS_URL: '', ARZSW_URL: '', TLS_CERT_FILE: join(certs.dir, 'missing.pem'), TLS_KEY_FILE: certs.server.keyFile },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()))
    const [code] = (await once(child, 'exit')) as [number | null]
    t.equal(code, 2, 'npm start exits 2, as for any invalid option')
    t.match(output, /invalid configuration:\n {2}- tls\.certFile .*cannot be read \(ENOENT\)/)
    t.notMatch(output, /\n\s+at /, 'a message, not a stack trace')
  })

  t.test('HTTPS to the legacy: the CA in upstream.caFile is trusted, any other certificate is a 502 UPSTREAM_TLS_FAILED', async (t) => {
    const request = CASES[0]!
    const direct = await rawExchange(httpsSim.url, request, 15_000, certs.ca)
    t.equal(direct.status, 200, 'the simulator speaks HTTPS')

    const trusting = await proxyFor(t, { ...PATIENT, legacyUrl: httpsSim.url, 'upstream.caFile': certs.caFile })
    const proxied = await rawExchange(trusting.url, request)
    t.equal(proxied.status, 200, 'with the right CA: answered')
    t.equal(maskVolatile(proxied.body), maskVolatile(direct.body), 'with the legacy\'s bytes')
    t.same(await readiness(trusting.adminUrl), { legacy: true }, '/readyz reaches the legacy with the same CA')

    const wrongCa = await proxyFor(t, { legacyUrl: httpsSim.url, 'upstream.caFile': certs.otherCaFile })
    const noCa = await proxyFor(t, { legacyUrl: httpsSim.url })
    for (const [name, proxy] of [['a wrong CA', wrongCa], ['no upstream.caFile (built-in CAs)', noCa]] as const) {
      const refused = await rawExchange(proxy.url, request)
      t.equal(refused.status, 502, `${name}: 502`)
      t.equal(headerValue(refused.headers, 'x-fastpath-error'), 'UPSTREAM_TLS_FAILED', `${name}: the catalogue code`)
      t.equal(refused.body.toString(), 'Bad Gateway: the ArzTi service could not be verified')
      t.same(await readiness(proxy.adminUrl), { legacy: false }, `${name}: /readyz says the legacy is not reachable`)
    }
  })

  t.test('a legacy presenting another CA\'s certificate for its address (a man in the middle) is refused', async (t) => {
    const impostor = await startLegacySim({ arzswUrl: databaseUrl(seedDatabaseNames(PREFIX).arzsw), tls: { cert: readFileSync(certs.foreign.certFile, 'utf8'), key: readFileSync(certs.foreign.keyFile, 'utf8') } })
    t.teardown(() => impostor.close())
    const proxy = await proxyFor(t, { legacyUrl: impostor.url, 'upstream.caFile': certs.caFile })
    const refused = await rawExchange(proxy.url, CASES[0]!)
    t.equal(refused.status, 502)
    t.equal(headerValue(refused.headers, 'x-fastpath-error'), 'UPSTREAM_TLS_FAILED')
  })

  t.test('shadow and sampled reads of an HTTPS legacy verify it with the same CA', async (t) => {
    const headers = { authorization: good }
    const trusting = new LegacyReader(httpsSim.url, { capBytes: 1 << 20, timeoutMs: 5000, maxSockets: 1, ca: certs.ca })
    const wrong = new LegacyReader(httpsSim.url, { capBytes: 1 << 20, timeoutMs: 5000, maxSockets: 1, ca: readFileSync(certs.otherCaFile, 'utf8') })
    t.teardown(() => {
      trusting.close()
      wrong.close()
    })
    t.equal((await trusting.read('/v2/rezept?pageSize=1', headers))?.status, 200, 'the right CA: read')
    t.equal(await wrong.read('/v2/rezept?pageSize=1', headers), undefined, 'a wrong CA: no answer to compare with')
  })
}

function install(from: TestKeyPair, to: TestKeyPair): void {
  copyFileSync(from.keyFile, to.keyFile)
  copyFileSync(from.certFile, to.certFile)
}

async function readiness(adminUrl: string): Promise<Record<string, boolean>> {
  return ((await (await fetch(`${adminUrl}/readyz`)).json()) as { checks: Record<string, boolean> }).checks
}

/** A GET over `agent`, with the certificate the connection was opened with. */
function get(agent: https.Agent, baseUrl: string, path: string): Promise<{ status: number; body: string; fingerprint: string; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const req = https.get(new URL(path, baseUrl), { agent }, (res) => {
      const fingerprint = (res.socket as TLSSocket).getPeerCertificate().fingerprint256
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, fingerprint, reused: req.reusedSocket }))
      res.on('error', reject)
    })
    req.on('error', reject)
  })
}
