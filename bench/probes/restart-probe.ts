// Issue 24: the crowd's 200 first logins after a restart, at the verifier (no HTTP, no legacy): how long
// until every user is verified, by BCrypt (a cold instance alone) against taking the outcomes another
// instance (or the process before the restart) left in Redis. Needs `npm run bench -- crowd` to have
// seeded bench_* (200 BCrypt users, cost 10) and a Redis. `npx node bench/probes/restart-probe.ts`
// Prints ratios measured in one run, with the load average: on a shared machine the absolute times mean little.
import { randomUUID } from 'node:crypto'
import { availableParallelism, loadavg } from 'node:os'
import { CredentialVerifier } from '../../auth/credential-verifier.ts'
import { EventBus, type ProxyEvent } from '../../core/events.ts'
import { pgAdminUrl, redisUrl } from '../../dev/services.ts'
import { databaseUrl } from '../prepare-data.ts'
import { benchUserLogin, type ScenarioFile } from '../scenario-model.ts'
import { readFileSync } from 'node:fs'

const file = JSON.parse(readFileSync(new URL('../scenarios.json', import.meta.url), 'utf8')) as ScenarioFile
const users = Array.from({ length: file.benchUsers.count }, (_, i) => ({ user: benchUserLogin(file, i), password: file.benchUsers.password }))
const arzswUrl = databaseUrl(pgAdminUrl(), 'bench_arzsw')
const shared = { redisUrl: redisUrl(), keyPrefix: `probe:${randomUUID().slice(0, 8)}:`, keySecret: 'restart-probe-secret-of-at-least-32-chars', commandTimeoutMs: 50 }

function instance(withRedis: boolean): { check: CredentialVerifier; outcomes: Map<string, number> } {
  const events = new EventBus()
  const outcomes = new Map<string, number>()
  events.on((event: ProxyEvent) => { if (event.type === 'auth.checked') outcomes.set(event.outcome, (outcomes.get(event.outcome) ?? 0) + 1) })
  const check = new CredentialVerifier({
    arzswUrl, outcomeTtlMs: 60_000, userRowTtlMs: 10_000, credentialWatchMs: 1000, connectTimeoutMs: 5000, statementTimeoutMs: 10_000,
    preparedStatements: true, events, bcryptWorkers: availableParallelism(), ...(withRedis ? { shared } : {}),
  })
  return { check, outcomes }
}

/** All users at once, as after a restart; ms until the last is verified. */
async function crowd(check: CredentialVerifier): Promise<number> {
  await check.started()
  const began = performance.now()
  const kinds = await Promise.all(users.map((u) => check.verify(u).then((o) => o.kind)))
  const took = performance.now() - began
  if (kinds.some((k) => k !== 'verified')) throw new Error(`not all verified: ${[...new Set(kinds)].join(', ')}`)
  return took
}

console.log(`${new Date().toISOString()}  load ${loadavg().map((l) => l.toFixed(2)).join(' ')}  cores ${availableParallelism()}  ${users.length} users, cost ${file.benchUsers.bcryptCost}`)
const first = instance(true)
const bcryptMs = await crowd(first.check)
console.log(`instance A, cold, BCrypt for all:           ${(bcryptMs / 1000).toFixed(2)} s  events ${JSON.stringify(Object.fromEntries(first.outcomes))}`)
await new Promise((resolve) => setTimeout(resolve, 200)) // A's writes to Redis land
await first.check.close()
const restarted = instance(true)
const sharedMs = await crowd(restarted.check)
console.log(`instance B (A restarted), outcomes in Redis: ${(sharedMs / 1000).toFixed(2)} s  events ${JSON.stringify(Object.fromEntries(restarted.outcomes))}`)
await restarted.check.close()
console.log(`ratio: ${(bcryptMs / sharedMs).toFixed(1)}x faster to have every user verified after a restart`)
