// A tiny upstream for routing and failure tests: answers `legacy <method> <target>` and can be told
// to hang before its status line or in the middle of its body.
import http from 'node:http'
import type { AddressInfo, Socket } from 'node:net'

export interface EchoUpstream {
  readonly url: string
  readonly port: number
  /** refuse-unread: 401 at once, before reading the body, as the legacy refuses an anonymous write. */
  mode: 'answer' | 'hang-headers' | 'hang-body' | 'slow' | 'refuse-unread'
  delayMs: number
  /** Every request as the upstream saw it, in order. */
  readonly seen: { method: string; url: string; rawHeaders: string[] }[]
  readonly openSockets: () => number
  close(): Promise<void>
}

export async function startEchoUpstream(port = 0): Promise<EchoUpstream> {
  const sockets = new Set<Socket>()
  const upstream: EchoUpstream = {
    url: '',
    port: 0,
    mode: 'answer',
    delayMs: 0,
    seen: [],
    openSockets: () => sockets.size,
    close: async () => {
      const closed = new Promise<void>((resolve) => server.close(() => resolve()))
      for (const socket of sockets) socket.destroy()
      await closed
    },
  }
  const server = http.createServer((req, res) => {
    upstream.seen.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders })
    if (upstream.mode === 'refuse-unread') {
      res.writeHead(401, { 'Content-Length': 0 })
      return res.end()
    }
    let received = 0
    req.on('data', (chunk: Buffer) => (received += chunk.length))
    req.on('end', () => {
      // Under /echo the answer describes the request as the upstream saw it.
      const body = req.url?.startsWith('/echo')
        ? Buffer.from(JSON.stringify({ method: req.method, url: req.url, rawHeaders: req.rawHeaders, received }))
        : Buffer.from(`legacy ${req.method} ${req.url}`)
      if (upstream.mode === 'hang-headers') return
      if (upstream.mode === 'hang-body') {
        res.writeHead(200, { 'Content-Length': body.length * 2 })
        res.write(body)
        return
      }
      const answer = () => {
        res.writeHead(200, { 'Content-Type': 'text/plain', 'Content-Length': body.length, 'X-Seen-Request-Id': String(req.headers['x-request-id']) })
        res.end(body)
      }
      if (upstream.mode === 'slow') setTimeout(answer, upstream.delayMs)
      else answer()
    })
  })
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
  const actual = (server.address() as AddressInfo).port
  return Object.assign(upstream, { url: `http://127.0.0.1:${actual}`, port: actual })
}
