// A legacy that misbehaves on purpose: an HTTP front for the legacy simulator that passes requests
// on, or answers after a delay longer than the proxy's timeouts, or closes the connection halfway
// through the body, or answers reads 500 or 401 as the real one does when it is failing (issue 26). It counts the writes (non-GET/HEAD) it received, so a test can tell "sent once"
// from "retried", and a write it received still reaches the simulator (and commits) whatever the mode.
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'
import { request } from 'undici'

export type LegacyMisbehaviour = 'pass' | 'slow' | 'close-mid-body' | 'fail-500' | 'refuse-401'

export interface FaultyLegacy {
  readonly url: string
  mode: LegacyMisbehaviour
  /** How long `slow` waits before it forwards and answers. */
  delayMs: number
  /** Write requests received, as `METHOD target`, in order. */
  readonly writes: string[]
  close(): Promise<void>
}

// undici refuses hop-by-hop request headers; the simulator needs none of them.
const NOT_FORWARDED = new Set(['host', 'connection', 'keep-alive', 'transfer-encoding', 'content-length', 'upgrade'])

export async function startFaultyLegacy(simUrl: string): Promise<FaultyLegacy> {
  const sockets = new Set<Socket>()
  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => void handle(req, Buffer.concat(chunks), res).catch(() => res.destroy()))
  })
  const legacy: FaultyLegacy = {
    url: '',
    mode: 'pass',
    delayMs: 0,
    writes: [],
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
  async function handle(req: http.IncomingMessage, body: Buffer, res: http.ServerResponse): Promise<void> {
    const mode = legacy.mode
    if (req.method !== 'GET' && req.method !== 'HEAD') legacy.writes.push(`${req.method} ${req.url}`)
    if (mode === 'slow') await new Promise((resolve) => setTimeout(resolve, legacy.delayMs))
    // What ArzTi3Server answers under load (its 30 s command timeout) and to the first requests after
    // a database restart, whatever the credentials: reads only, so a write still commits.
    if ((mode === 'fail-500' || mode === 'refuse-401') && req.method === 'GET') {
      const text = mode === 'fail-500' ? Buffer.from('An error occurred while processing your request.') : Buffer.alloc(0)
      res.writeHead(mode === 'fail-500' ? 500 : 401, { 'Content-Type': 'text/plain; charset=utf-8', 'Content-Length': String(text.length) })
      return void res.end(text)
    }
    const headers: Record<string, string> = {}
    for (const [name, value] of Object.entries(req.headers)) {
      if (!NOT_FORWARDED.has(name) && typeof value === 'string') headers[name] = value
    }
    const answer = await request(simUrl + req.url, { method: req.method as 'GET', headers, ...(body.length > 0 ? { body } : {}) })
    const bytes = Buffer.from(await answer.body.arrayBuffer())
    if (res.destroyed) return
    const answerHeaders: Record<string, string> = {}
    for (const [name, value] of Object.entries(answer.headers)) {
      if (!NOT_FORWARDED.has(name) && typeof value === 'string') answerHeaders[name] = value
    }
    res.writeHead(answer.statusCode, { ...answerHeaders, 'Content-Length': String(bytes.length) })
    if (mode !== 'close-mid-body') return void res.end(bytes)
    // The status line and half the promised body, then the connection is gone.
    res.write(bytes.subarray(0, Math.floor(bytes.length / 2)), () => res.socket?.destroy())
  }
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return Object.assign(legacy, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}` })
}
