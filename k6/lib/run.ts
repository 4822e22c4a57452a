// What every k6 script does with its scenario from bench/scenarios.json (the file `npm run bench` reads):
// options (VUs, duration, thresholds that encode the targets), and one iteration: pick the request by
// weight, authenticate as the scenario's user, send, check, and wait out the interval of a paced client.
// Environment: BASE_URL (required), USER_GROSS / USER_KLEIN / USER_LEER as login:password (default: the
// seeded users), BENCH_USERS=N (the bench users 1..N exist, as `npm run bench` creates them), WRITE_TARGETS
// as type:uuid,type:uuid (prescriptions the writes may touch; without it writes are skipped and counted),
// VUS and DURATION to override the file.
import { check, sleep } from 'k6'
import encoding from 'k6/encoding'
import exec from 'k6/execution'
import http from 'k6/http'
import { Counter } from 'k6/metrics'
import type { Options } from 'k6/options'
import { bodyFor, credentialsFor, pickRequest, type Credentials, type ScenarioFile, type ScenarioSpec, type UserRef, type WriteTarget } from '../../bench/scenario-model.ts'

const skippedWrites = new Counter('skipped_writes')

export function scenarioOf(file: ScenarioFile, id: string): ScenarioSpec {
  const spec = file.scenarios.find((s) => s.id === id)
  if (spec === undefined) throw new Error(`no scenario ${id} in bench/scenarios.json`)
  return spec
}

export function optionsFor(spec: ScenarioSpec): Options {
  const thresholds: NonNullable<Options['thresholds']> = {}
  for (const [metric, rules] of Object.entries(spec.k6.thresholds)) thresholds[metric] = [...rules]
  return {
    vus: Number(__ENV.VUS ?? spec.k6.vus),
    duration: __ENV.DURATION ?? spec.k6.duration,
    thresholds,
    tags: { scenario: spec.id },
    noConnectionReuse: false,
  }
}

function baseUrl(): string {
  const url = __ENV.BASE_URL
  if (!url) throw new Error('set BASE_URL, e.g. BASE_URL=https://staging-proxy.example:8080')
  return url.replace(/\/$/, '')
}

function seededUser(file: ScenarioFile, user: Exclude<UserRef, 'bench-users'>): Credentials {
  const fromEnv = __ENV[`USER_${user.toUpperCase()}`]
  if (!fromEnv) return file.users[user]
  const colon = fromEnv.indexOf(':')
  return { login: fromEnv.slice(0, colon), password: fromEnv.slice(colon + 1) }
}

function writeTargets(): WriteTarget[] {
  return (__ENV.WRITE_TARGETS ?? '').split(',').filter((t) => t !== '').map((t) => {
    const colon = t.indexOf(':')
    return { type: t.slice(0, colon) as WriteTarget['type'], rezeptUuid: t.slice(colon + 1) }
  })
}

export function iteration(file: ScenarioFile, spec: ScenarioSpec): void {
  const began = Date.now()
  const n = exec.scenario.iterationInTest
  const request = pickRequest(spec.requests, ((n * 2654435761) % 4294967296) / 4294967296)
  const benchUsers = Number(__ENV.BENCH_USERS ?? 0)
  const user = request.user === 'bench-users'
    ? (benchUsers > 0 ? credentialsFor(file, 'bench-users', n, benchUsers) : seededUser(file, 'gross'))
    : seededUser(file, request.user)
  const targets = writeTargets()
  // A bulk status read (status-uuids-*) needs no prescription to write to.
  if (request.body !== undefined && !request.body.startsWith('status-uuids-') && targets.length === 0) {
    skippedWrites.add(1)
  } else {
    const body = bodyFor(request.body, targets.length ? targets[n % targets.length] : undefined)
    const headers: Record<string, string> = { Authorization: `Basic ${encoding.b64encode(`${user.login}:${user.password}`)}` }
    if (body !== undefined) headers['Content-Type'] = 'application/json'
    const answer = http.request(request.method, baseUrl() + request.path, body ?? null, { headers, tags: { kind: `${request.method} ${request.path.split('?')[0]}` } })
    check(answer, { 'status 200': (r) => r.status === 200 })
  }
  if (spec.intervalMs !== undefined) {
    const rest = spec.intervalMs - (Date.now() - began)
    if (rest > 0) sleep(rest / 1000)
  }
}
