// The HTTP requests of a scenario: request n of a turn is picked by weight from n (the same sequence for
// every contender and every run), sent as the scenario's user with the scenario's body. Shared by the
// benchmark (bench/main.ts) and the soak run (bench/soak.ts), so both drive the very same mix.
import type { HttpConnections, Send } from './load.ts'
import { bodyFor, credentialsFor, pickRequest, type RequestSpec, type ScenarioFile, type ScenarioSpec, type WriteTarget } from './scenario-model.ts'

export interface RequestData {
  readonly benchUserCount: number
  readonly writeTargets: readonly WriteTarget[]
}

/** The request spec of the n-th request of a turn. */
export function requestPicker(spec: ScenarioSpec): (n: number) => RequestSpec {
  return (n) => pickRequest(spec.requests, ((n * 2654435761) % 4294967296) / 4294967296)
}

/** A label per kind of request, for figures per kind: `GET /v2/rezept (gross)`. */
export function requestKind(request: RequestSpec): string {
  return `${request.method} ${request.path.split('?')[0]} (${request.user})`
}

/** Sends the n-th request of the scenario over the pool's connection. */
export function scenarioSend(spec: ScenarioSpec, file: ScenarioFile, data: RequestData, pool: HttpConnections): Send {
  const pick = requestPicker(spec)
  const authorization = new Map<string, string>()
  const auth = (login: string, password: string) => {
    let header = authorization.get(login)
    if (header === undefined) authorization.set(login, header = `Basic ${Buffer.from(`${login}:${password}`).toString('base64')}`)
    return header
  }
  return (connection, n) => {
    const request = pick(n)
    const user = credentialsFor(file, request.user, n, data.benchUserCount)
    const target = request.body === undefined ? undefined : data.writeTargets[n % data.writeTargets.length]
    return pool.send(connection, { method: request.method, path: request.path, authorization: auth(user.login, user.password), body: bodyFor(request.body, target) })
  }
}
