// The simulator's HTTP server: routing, then authentication, then the tenant middleware, then the endpoint (docs/legacy-contract.md §2, §3).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import { createServer as createHttpsServer } from 'node:https'
import type { AddressInfo, Socket } from 'node:net'
import type pg from 'pg'
import { authenticate, authorizationHeader } from './basic-authentication.ts'
import { BcryptVerifier } from './bcrypt-verifier.ts'
import { createArzswPool, TenantPools } from './database-pools.ts'
import { sendEmpty, sendUnauthorized } from './http-responses.ts'
import { readQuery } from './query-binding.ts'
import type { SimulatorSettings } from './request-context.ts'
import { LEGACY_ROUTES } from './legacy-routes.ts'
import { matchRoute, type RouteTemplate } from './route-table.ts'
import { DEFAULT_TIME_ZONE, zoneFormatter } from './server-date.ts'
import { answerSwagger } from './swagger-pages.ts'
import { requestStartingLine, traceScopeOf } from './trace-scope.ts'

export interface LegacySimOptions {
  arzswUrl: string
  port?: number
  host?: string
  maxPageSize?: number
  environment?: string
  /** The legacy host's time zone (IANA name); default Europe/Berlin, as the legacy runs. */
  timeZone?: string
  /** PEM certificate and key: the simulator speaks HTTPS, as IIS does in production. */
  tls?: { cert: string; key: string }
  /** Where a request's trace log line goes (one per request that carries a `traceparent`); default stderr. */
  log?: (line: string) => void
}

export interface LegacySimHandle {
  url: string
  port: number
  close(): Promise<void>
}

export const DEFAULT_MAX_PAGE_SIZE = 500
export const DEFAULT_ENVIRONMENT = 'Development'

export async function startLegacySim(options: LegacySimOptions): Promise<LegacySimHandle> {
  const settings: SimulatorSettings = Object.freeze({
    maxPageSize: options.maxPageSize ?? DEFAULT_MAX_PAGE_SIZE,
    environment: options.environment ?? DEFAULT_ENVIRONMENT,
    timeZone: options.timeZone ?? DEFAULT_TIME_ZONE,
  })
  zoneFormatter(settings.timeZone) // an unknown zone fails here, at start-up, as a RangeError
  const arzsw = createArzswPool(options.arzswUrl)
  const tenants = new TenantPools()
  const bcrypt = new BcryptVerifier()
  const routes = LEGACY_ROUTES
  const sockets = new Set<Socket>()
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`))
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const scope = traceScopeOf(req.headers.traceparent)
    if (scope !== undefined) log(requestStartingLine(scope, req.method ?? 'GET', (req.url ?? '/').split('?')[0]!))
    handle(req, res, routes, settings, arzsw, bcrypt, tenants).catch(() => {
      // Anything not caught by an endpoint is the developer-exception-free 500 of a production host.
      if (!res.headersSent) sendEmpty(res, 500)
      else res.destroy()
    })
  }
  const server = options.tls ? createHttpsServer(options.tls, handler) : createServer(handler)
  server.keepAliveTimeout = 130_000 // Kestrel keeps idle connections 130 s
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  const host = options.host ?? '127.0.0.1'
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(options.port ?? 0, host, () => resolve())
  })
  const port = (server.address() as AddressInfo).port
  return {
    url: `${options.tls ? 'https' : 'http'}://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    async close() {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      await closed
      // Every resource is released even when one of them fails to close; the first failure is reported.
      const results = await Promise.allSettled([tenants.closeAll(), arzsw.end(), bcrypt.close()])
      const failure = results.find((r) => r.status === 'rejected')
      if (failure) throw failure.reason
    },
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, routes: readonly RouteTemplate[], settings: SimulatorSettings, arzsw: pg.Pool, bcrypt: BcryptVerifier, tenants: TenantPools): Promise<void> {
  const rawUrl = req.url ?? '/'
  // Kestrel itself rejects a `#` in the request target: 400 with no body, before any middleware (docs/legacy-contract.md §3).
  if (rawUrl.includes('#')) {
    sendEmpty(res, 400)
    return
  }
  const q = rawUrl.indexOf('?')
  const path = q < 0 ? rawUrl : rawUrl.slice(0, q)
  // UseSwagger sits first in the legacy's pipeline, in Development only.
  if (settings.environment === 'Development' && answerSwagger(req, res, path.toLowerCase())) return
  const versionHeader = req.headers['x-api-version']
  const match = matchRoute(routes, req.method ?? 'GET', path, typeof versionHeader === 'string' ? versionHeader : undefined)

  let db = arzsw
  if (match.kind === 'endpoint' && match.method.requiresAuth) {
    const tenant = await authenticate(arzsw, bcrypt, authorizationHeader(req.rawHeaders))
    if (tenant === null) {
      sendUnauthorized(res)
      return
    }
    db = tenants.forConnectionString(tenant.connectionString)
  }
  // docs/legacy-contract.md §2: the tenant middleware runs after authorization and throws on any non-empty X-Tenant-Id.
  const tenantHeader = req.headers['x-tenant-id']
  if (tenantHeader !== undefined && tenantHeader !== '') {
    sendEmpty(res, 500)
    return
  }
  switch (match.kind) {
    case 'not-found':
      sendEmpty(res, 404)
      return
    case 'method-not-allowed':
      sendEmpty(res, 405, { Allow: match.allow })
      return
    case 'version-problem':
      // Measured on the legacy: an unsupported version is a 400 with an EMPTY body (docs/legacy-contract.md §3) — its
      // Asp.Versioning has no problem-details writer registered, so no kind of version error has a body.
      sendEmpty(res, 400)
      return
    case 'endpoint':
      await match.method.handler({ req, res, db, settings, query: readQuery(q < 0 ? '' : rawUrl.slice(q + 1)), pathParameters: match.pathParameters })
  }
}
