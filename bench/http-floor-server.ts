// The floor of a cached answer: a bare node:http server sending, for a path, the very Buffer the proxy's
// cache sent for it (same Content-Type and length), from memory, no work per request. The harness loads
// the bytes with `PUT /__floor?path=<path>` before the turns. Prints `listening <url>`.
import { createServer } from 'node:http'
import type { AddressInfo } from 'node:net'

const bodies = new Map<string, { body: Buffer; contentType: string }>()
const server = createServer((req, res) => {
  const url = req.url ?? '/'
  if (req.method === 'PUT' && url.startsWith('/__floor?')) {
    const path = new URLSearchParams(url.slice(url.indexOf('?') + 1)).get('path') ?? ''
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => {
      bodies.set(path, { body: Buffer.concat(chunks), contentType: req.headers['content-type'] ?? 'application/octet-stream' })
      res.writeHead(204).end()
    })
    return
  }
  const entry = bodies.get(url)
  if (entry === undefined) {
    res.writeHead(404).end()
    return
  }
  res.writeHead(200, { 'content-type': entry.contentType, 'content-length': entry.body.length })
  res.end(entry.body)
})
server.keepAliveTimeout = 130_000
server.listen(0, '127.0.0.1', () => console.log(`listening http://127.0.0.1:${(server.address() as AddressInfo).port}`))
process.on('SIGTERM', () => {
  server.close()
  server.closeAllConnections()
  process.exit(0)
})
