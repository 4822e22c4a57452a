// Sends bytes exactly as given over a fresh TCP connection and returns everything the server wrote
// until it closed (or the wait ran out): for requests node:http's client refuses to produce.
import net from 'node:net'

export interface RawReply {
  readonly text: string
  readonly status: number
  readonly closed: boolean
  readonly ms: number
}

export function sendRaw(baseUrl: string, bytes: Buffer | string, waitMs = 3000, parts?: { readonly delayMs: number }): Promise<RawReply> {
  const url = new URL(baseUrl)
  const started = performance.now()
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    const socket = net.connect(Number(url.port), url.hostname)
    let closed = false
    const finish = () => {
      clearTimeout(timer)
      const text = Buffer.concat(chunks).toString('latin1')
      const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0)
      socket.destroy()
      resolve({ text, status, closed, ms: performance.now() - started })
    }
    const timer = setTimeout(finish, waitMs)
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk)
      // One complete answer is enough when the server keeps the connection.
      const text = Buffer.concat(chunks).toString('latin1')
      const head = text.indexOf('\r\n\r\n')
      const length = /\r\ncontent-length: *(\d+)/i.exec(text)
      if (head >= 0 && length && text.length >= head + 4 + Number(length[1])) finish()
      else if (head >= 0 && /\r\ntransfer-encoding: *chunked/i.test(text) && text.endsWith('\r\n0\r\n\r\n')) finish()
    })
    socket.on('close', () => {
      closed = true
      finish()
    })
    socket.on('error', () => {})
    const data = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes, 'latin1')
    if (parts === undefined) return void socket.write(data)
    // Byte by byte with a pause: a slowloris client.
    let i = 0
    const drip = () => {
      if (i >= data.length || socket.destroyed) return
      socket.write(data.subarray(i, i + 1))
      i++
      setTimeout(drip, parts.delayMs)
    }
    drip()
  })
}
