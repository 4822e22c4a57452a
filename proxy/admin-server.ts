// The admin listener: flags (read and change), reload, health, readiness, and the stable paths the
// metrics and shadow-comparison issues fill in. Bearer-token protected when a token is configured;
// without one it binds to loopback only. /healthz and /readyz stay open for probes; /metrics only
// with admin.metricsOpen (it names routes, tenants and failure counts).
import { createHash, timingSafeEqual } from 'node:crypto'
import http, { type IncomingMessage, type ServerResponse } from 'node:http'
import { ROUTE_IDS } from '../routes/contract.ts'
import { isRouteId, parseFlagSetting, type FlagSetting } from '../core/flag-setting.ts'
import type { FlagStore } from '../routes/flags/flag-store.ts'
import { PROXY_ERRORS, ProxyError } from '../core/errors.ts'
import { listen } from './listen.ts'
import type { Readiness } from './readiness.ts'

export interface AdminServerOptions {
  readonly host: string
  readonly port: number
  readonly token: () => string | undefined
  /** admin.metricsOpen: /metrics needs no token even when one is set. */
  readonly metricsOpen?: () => boolean
  readonly flags: FlagStore
  /** Why a flag may not be set now (on/canary while the legacy's settings are unknown); undefined: it may. */
  readonly refuse?: (flag: FlagSetting) => string | undefined
  /** Whether flags are shared through Redis; without, a change applies to this instance only. */
  readonly sharedFlags: boolean
  /** Persists and propagates an admin change (Redis); resolves false when it could not. */
  readonly propagate: (routeId: (typeof ROUTE_IDS)[number], flag: FlagSetting) => Promise<boolean>
  /** Whether this instance can serve, and what each dependency check found. */
  readonly readiness: () => Promise<Readiness>
  /** Prometheus text exposition (format 0.0.4). */
  readonly metricsText: () => Promise<string>
  /** `by` names who asked, for the audit log. */
  readonly reload: (by: string) => Promise<string[]>
  /** The kept shadow mismatch records, newest first. */
  readonly mismatches?: () => readonly unknown[]
}

const OPEN_PATHS = new Set(['/healthz', '/readyz'])
const MAX_BODY = 16 * 1024

export class AdminServer {
  readonly server: http.Server
  readonly #options: AdminServerOptions

  constructor(options: AdminServerOptions) {
    this.#options = options
    this.server = http.createServer((req, res) => {
      this.#handle(req, res).catch((error: unknown) => sendJson(res, 500, { error: (error as Error).message }))
    })
  }

  listen(): Promise<string> {
    return listen(this.server, this.#options.port, this.#options.host)
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()))
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://admin')
    const path = url.pathname
    const open = OPEN_PATHS.has(path) || (path === '/metrics' && this.#options.metricsOpen?.() === true)
    if (!open && !this.#authorized(req)) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="arzti-fastpath admin"')
      return sendJson(res, 401, { error: 'a valid "Authorization: Bearer <FASTPATH_ADMIN_TOKEN>" is required' })
    }
    if (path === '/healthz' && req.method === 'GET') return sendJson(res, 200, { status: 'ok' })
    if (path === '/readyz' && req.method === 'GET') {
      // 503 takes the instance out of the load balancer: only when it can serve nothing.
      const readiness = await this.#options.readiness()
      return sendJson(res, readiness.ready ? 200 : 503, readiness)
    }
    if (path === '/metrics' && req.method === 'GET') {
      const text = await this.#options.metricsText()
      res.writeHead(200, { 'Content-Type': 'text/plain; version=0.0.4; charset=utf-8' })
      return void res.end(text)
    }
    if (path === '/shadow/mismatches' && req.method === 'GET') return sendJson(res, 200, this.#options.mismatches?.() ?? [])
    if (path === '/reload' && req.method === 'POST') {
      let changed: string[]
      try {
        changed = await this.#options.reload(who(req, this.#options.token() !== undefined))
      } catch (error) {
        if (!(error instanceof ProxyError)) throw error
        return sendJson(res, PROXY_ERRORS[error.code].status, { reloaded: false, code: error.code, error: PROXY_ERRORS[error.code].clientText })
      }
      return sendJson(res, 200, { reloaded: true, changed })
    }
    if (path === '/flags' && req.method === 'GET') return sendJson(res, 200, this.#options.flags.all())
    if (path.startsWith('/flags/')) return this.#flag(req, res, decodeURIComponent(path.slice('/flags/'.length)))
    return sendJson(res, 404, { error: `no admin route ${req.method} ${path}` })
  }

  async #flag(req: IncomingMessage, res: ServerResponse, routeId: string): Promise<void> {
    if (!isRouteId(routeId)) return sendJson(res, 400, { error: `unknown route id "${routeId}"; accepted: ${ROUTE_IDS.join(', ')}` })
    if (req.method === 'GET') {
      // After an automatic switch-off the flag says why, until an operator sets it again.
      const demotion = this.#options.flags.demotion(routeId)
      return sendJson(res, 200, demotion ? { ...this.#options.flags.get(routeId), demotion } : this.#options.flags.get(routeId))
    }
    if (req.method !== 'PUT') return sendJson(res, 405, { error: 'use GET or PUT' })
    let body: unknown
    try {
      body = JSON.parse(await readBody(req))
    } catch (error) {
      return sendJson(res, 400, { error: `the body must be JSON like {"mode":"on"}: ${(error as Error).message}` })
    }
    const flag = parseFlagSetting(body)
    if (!flag.ok) return sendJson(res, 400, { error: flag.message })
    const refusal = this.#options.refuse?.(flag.value)
    if (refusal !== undefined) return sendJson(res, 409, { error: refusal })
    const by = who(req, this.#options.token() !== undefined)
    // The change itself is logged (who, old, new, when) by the event-log consumer of flag.changed.
    const from = this.#options.flags.get(routeId)
    const change = this.#options.flags.set(routeId, flag.value, by, 'admin')
    const propagated = await this.#options.propagate(routeId, flag.value)
    // `instances`: whether every instance takes it (stored in Redis and published), or this one only.
    const instances = !this.#options.sharedFlags ? 'this instance only: no Redis is configured' : propagated ? 'every instance (stored in Redis)' : 'this instance only: Redis did not take it'
    return sendJson(res, 200, { routeId, from, flag: flag.value, changed: change !== null, propagated, instances })
  }

  #authorized(req: IncomingMessage): boolean {
    const token = this.#options.token()
    if (token === undefined) return true
    const header = req.headers.authorization ?? ''
    if (!/^bearer /i.test(header)) return false
    const given = createHash('sha256').update(header.slice(7).trim()).digest()
    return timingSafeEqual(given, createHash('sha256').update(token).digest())
  }
}

/** Who made a change, for the audit log: a name the caller gives, and where from. */
function who(req: IncomingMessage, tokenUsed: boolean): string {
  const named = req.headers['x-admin-user']
  const name = typeof named === 'string' && named !== '' ? named.slice(0, 64) : tokenUsed ? 'token-holder' : 'loopback'
  return `${name}@${req.socket.remoteAddress ?? 'unknown'}`
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    let size = 0
    req.on('data', (chunk: Buffer) => {
      size += chunk.length
      if (size > MAX_BODY) {
        reject(new Error(`over ${MAX_BODY} bytes`))
        req.destroy()
      } else chunks.push(chunk)
    })
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

function sendJson(res: ServerResponse, status: number, value: unknown): void {
  if (res.headersSent) return void res.end()
  const body = Buffer.from(JSON.stringify(value))
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': body.length })
  res.end(body)
}
