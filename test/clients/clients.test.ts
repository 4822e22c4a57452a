// Real clients need no change: the Python, PHP and C# programs under test/clients/ call the v1 routes
// as the legacy's generated SDKs do and the v2 routes as a hand-written ARZ poller does, once against
// the legacy simulator and once through the proxy (flags on), each from the same database state; their
// transcripts must be identical. A missing runtime fails the test naming its Debian package.
import t, { type Test } from 'tap'
import pg from 'pg'
import { startLegacySim } from '../../legacy-sim/server.ts'
import { seed, seedUserFor } from '../../sql/seed/seed.ts'
import { startInstance } from '../cache/cache-instances.ts'
import { databaseUrl, deleteRedisKeys, needsRedis, pgAdminUrl, redisUrl } from '../../dev/services.ts'
import { CLIENT_RUNTIMES, runClient, type ClientRun, type ClientRuntime } from './client-runtimes.ts'

const USER = seedUserFor('klein')

const skip = needsRedis()
if (skip.skip !== undefined) t.plan(0, skip.skip)
else for (const runtime of CLIENT_RUNTIMES) await t.test(`the ${runtime.language} client reads the same answers through the proxy as from the legacy`, (t) => compare(t, runtime))

async function compare(t: Test, runtime: ClientRuntime): Promise<void> {
  const missing = await runtime.missing()
  if (missing !== null) {
    t.fail(`${runtime.language} runtime unusable: ${missing} (.ci/run installs it from .ci/tools)`)
    return
  }
  const command = await runtime.prepare()
  const prefix = `t_cli_${runtime.language}_`
  const report = await seed({ adminUrl: pgAdminUrl(), prefix, rows: 0, kleinRows: 300 })
  const arzswUrl = databaseUrl(report.databases.arzsw)
  const tenant = report.databases.tenants.klein
  // A file-level copy of the seeded tenant: v1 `new` has no ORDER BY (docs/legacy-contract.md §8), so its order is the
  // plan's (a hash aggregate over the rows as they lie), and two seedings with the same seed hold the same rows
  // but not always in the same physical order, nor with the same statistics.
  const pristine = `${prefix}pristine_klein`
  await admin(`DROP DATABASE IF EXISTS ${pristine}`, `CREATE DATABASE ${pristine} TEMPLATE ${tenant}`)
  t.teardown(() => admin(`DROP DATABASE IF EXISTS ${pristine}`))

  const viaLegacy = await withLegacy(arzswUrl, (url) => runClient(command, url, USER.login, USER.password))
  await admin(`DROP DATABASE ${tenant} WITH (FORCE)`, `CREATE DATABASE ${tenant} TEMPLATE ${pristine}`)
  const viaProxy = await withLegacy(arzswUrl, async (legacyUrl) => {
    const keyPrefix = `t_cli:${runtime.language}:`
    await deleteRedisKeys(keyPrefix)
    try {
      const instance = await startInstance(t, {
        legacyUrl, arzswUrl, redisUrl: redisUrl(), redisKeyPrefix: keyPrefix,
        flags: 'v2.rezept.list=on,v2.rezept.pharmacy=on,v1.prescriptions.new=on',
      })
      return await runClient(command, instance.url, USER.login, USER.password)
    } finally {
      await deleteRedisKeys(keyPrefix)
    }
  })

  t.ok(viaLegacy.transcript.split('\n').filter((line) => line.startsWith('> ')).length >= 13, 'the client made all its calls')
  t.notOk(viaLegacy.transcript.includes(USER.password) || viaProxy.transcript.includes(USER.password), 'the transcript never shows the password')
  t.equal(firstDifference(viaProxy.transcript, viaLegacy.transcript), null, 'every call answered the same through the proxy as by the legacy')
  t.ok(viaProxy.transcript === viaLegacy.transcript, 'the transcripts are identical')
  const answeredByProxy = servedBy(viaProxy, /^(fast|cache);/)
  t.ok(answeredByProxy.length >= 3, `the proxy answered list calls itself (${answeredByProxy.join(' | ')})`)
  t.ok(servedBy(viaProxy, /^cache;/).length >= 1, 'the repeated poll came from the cache')
  // v1 GET new (issue 19): answered by the fast path in the legacy's plan order, so the SDK's transcript is the legacy's.
  const v1Fast = servedBy(viaProxy, /^fast;/).filter((call) => /^GET \/api\/(v1(\.0)?\/)?prescriptions\/new/i.test(call))
  t.ok(v1Fast.length >= 1, `the proxy answered the SDK's v1 new calls itself (${v1Fast.join(' | ')})`)
  t.ok(servedBy(viaProxy, /^legacy;/).some((call) => call.startsWith('PATCH /v2/rezept/status')), 'the write went to the legacy')
}

/** `METHOD PATH` of the calls whose Server-Timing matched. */
function servedBy(run: ClientRun, timing: RegExp): string[] {
  return run.timings
    .map((line) => line.slice('server-timing '.length).split(' '))
    .filter((parts) => timing.test(parts[2] ?? ''))
    .map((parts) => `${parts[0]} ${parts[1]}`)
}

/** The first call whose answer differs, with both answers cut to the neighbourhood of the difference. */
function firstDifference(actual: string, expected: string): string | null {
  if (actual === expected) return null
  const a = actual.split('\n')
  const e = expected.split('\n')
  for (let i = 0; i < Math.max(a.length, e.length); i++) {
    if (a[i] === e[i]) continue
    const request = [...e.slice(0, i + 1)].reverse().find((line) => line.startsWith('> ')) ?? '(start)'
    let at = 0
    while (at < Math.min(a[i]?.length ?? 0, e[i]?.length ?? 0) && a[i]![at] === e[i]![at]) at++
    const around = (line: string | undefined): string => (line ?? '(missing)').slice(Math.max(0, at - 120), at + 200)
    return `${request}\n proxy:  ${around(a[i])}\n legacy: ${around(e[i])}`
  }
  return null
}

async function withLegacy<T>(arzswUrl: string, use: (url: string) => Promise<T>): Promise<T> {
  const sim = await startLegacySim({ arzswUrl, port: 0 })
  try {
    return await use(sim.url)
  } finally {
    await sim.close()
  }
}

async function admin(...statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: pgAdminUrl() })
  await client.connect()
  try {
    for (const statement of statements) await client.query(statement)
  } finally {
    await client.end()
  }
}

