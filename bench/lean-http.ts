// The load generator's HTTP/1.1 client: one keep-alive socket, one request at a time, the answer read
// into one reused buffer (net's `onread`) and only counted, never kept. Why not undici here: measuring
// a 1.3 MB answer with undici cost the harness 2-3 ms of CPU and a full (mark-compact) GC every ~80 ms,
// 10-24 ms each, for the Buffers of the chunks it hands out; those pauses were the p99 of every fast
// contender (2026-11-23: the cached poll measured p99 84-111 ms through undici, 21-47 ms through wrk).
// A load generator must cost less than what it measures, as wrk does: this one allocates nothing per
// chunk. It understands what the contenders send: Content-Length or chunked bodies, keep-alive or close.
import { connect, type Socket } from 'node:net'

export interface LeanAnswer {
  readonly status: number
  /** Body bytes (after chunked decoding). */
  readonly bytes: number
}

const CR = 13
const LF = 10
const MAX_HEAD_BYTES = 64 * 1024

type BodyState = 'length' | 'chunk-size' | 'chunk-data' | 'chunk-data-end' | 'trailers' | 'until-close'

interface Pending {
  resolve(answer: LeanAnswer): void
  reject(error: Error): void
}

export class LeanHttpConnection {
  readonly #host: string
  readonly #port: number
  // One read buffer per connection: net fills it on every read, nothing else is allocated.
  readonly #readBuffer = Buffer.allocUnsafe(256 * 1024)
  #socket: Socket | undefined
  #pending: Pending | undefined
  // Parsing state of the answer being read.
  #head = Buffer.allocUnsafe(MAX_HEAD_BYTES)
  #headLength = 0
  #inHead = true
  #status = 0
  #closeAfter = false
  #body: BodyState = 'length'
  #remaining = 0
  #bytes = 0
  #line = ''

  constructor(origin: string) {
    const url = new URL(origin)
    this.#host = url.hostname
    this.#port = Number(url.port || 80)
  }

  /** Sends one request and resolves once its answer's last byte is read. */
  request(method: string, path: string, headers: Readonly<Record<string, string>>, body: string | undefined): Promise<LeanAnswer> {
    // A request still pending was given up by the caller (its time ran out): its answer is abandoned
    // with its connection, and this one goes out on a new connection.
    if (this.#pending !== undefined) this.#fail(new Error('abandoned for the next request'))
    let head = `${method} ${path} HTTP/1.1\r\nhost: ${this.#host}:${this.#port}\r\n`
    for (const [name, value] of Object.entries(headers)) head += `${name}: ${value}\r\n`
    const payload = body === undefined ? undefined : Buffer.from(body)
    if (payload !== undefined) head += `content-length: ${payload.length}\r\n`
    head += '\r\n'
    return new Promise<LeanAnswer>((resolve, reject) => {
      this.#pending = { resolve, reject }
      this.#startAnswer()
      const socket = this.#socket ?? this.#open()
      socket.write(payload === undefined ? head : Buffer.concat([Buffer.from(head), payload]))
    })
  }

  close(): void {
    this.#socket?.destroy()
    this.#socket = undefined
  }

  #open(): Socket {
    const socket = connect({
      host: this.#host, port: this.#port, noDelay: true,
      onread: { buffer: this.#readBuffer, callback: (length: number, buffer: Uint8Array) => { this.#read(buffer, length); return true } },
    })
    const lost = (error?: Error) => {
      // A connection already given up (closed by us, replaced) no longer speaks for any request.
      if (this.#socket !== socket) return
      this.#socket = undefined
      // A body that ends with the connection (no length, not chunked) is complete now.
      if (this.#pending !== undefined && !this.#inHead && this.#body === 'until-close') return this.#finish()
      this.#fail(error ?? new Error('connection closed before the answer was complete'))
    }
    socket.on('error', lost)
    socket.on('close', () => lost())
    this.#socket = socket
    return socket
  }

  #startAnswer(): void {
    this.#headLength = 0
    this.#inHead = true
    this.#status = 0
    this.#closeAfter = false
    this.#bytes = 0
    this.#line = ''
  }

  #read(buffer: Uint8Array, length: number): void {
    let at = 0
    while (at < length && this.#pending !== undefined) {
      if (this.#inHead) at = this.#readHead(buffer, at, length)
      else at = this.#readBody(buffer, at, length)
    }
  }

  #readHead(buffer: Uint8Array, from: number, to: number): number {
    for (let i = from; i < to; i++) {
      if (this.#headLength >= MAX_HEAD_BYTES) {
        this.#fail(new Error('answer head too large'))
        return to
      }
      this.#head[this.#headLength++] = buffer[i]!
      const n = this.#headLength
      if (n >= 4 && this.#head[n - 1] === LF && this.#head[n - 2] === CR && this.#head[n - 3] === LF && this.#head[n - 4] === CR) {
        this.#parseHead(this.#head.toString('latin1', 0, n))
        return i + 1
      }
    }
    return to
  }

  #parseHead(text: string): void {
    const lines = text.split('\r\n')
    this.#status = Number(lines[0]!.split(' ')[1])
    // 1xx answers (100 Continue) precede the real one: read the next head.
    if (this.#status >= 100 && this.#status < 200) {
      this.#startAnswer()
      return
    }
    let contentLength: number | undefined
    let chunked = false
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':')
      if (colon < 0) continue
      const name = line.slice(0, colon).trim().toLowerCase()
      const value = line.slice(colon + 1).trim().toLowerCase()
      if (name === 'content-length') contentLength = Number(value)
      else if (name === 'transfer-encoding') chunked = value.split(',').map((v) => v.trim()).includes('chunked')
      else if (name === 'connection') this.#closeAfter = value.split(',').map((v) => v.trim()).includes('close')
    }
    this.#inHead = false
    if (this.#status === 204 || this.#status === 304) return this.#finish()
    if (chunked) this.#body = 'chunk-size'
    else if (contentLength !== undefined) {
      this.#body = 'length'
      this.#remaining = contentLength
      if (contentLength === 0) this.#finish()
    } else this.#body = 'until-close'
  }

  #readBody(buffer: Uint8Array, from: number, to: number): number {
    switch (this.#body) {
      case 'length': {
        const take = Math.min(this.#remaining, to - from)
        this.#remaining -= take
        this.#bytes += take
        if (this.#remaining === 0) this.#finish()
        return from + take
      }
      case 'until-close':
        this.#bytes += to - from
        return to
      case 'chunk-data': {
        const take = Math.min(this.#remaining, to - from)
        this.#remaining -= take
        this.#bytes += take
        if (this.#remaining === 0) this.#body = 'chunk-data-end'
        return from + take
      }
      default:
        // Size lines, the CRLF after a chunk, trailers: short lines, read byte by byte.
        return this.#readLine(buffer, from, to)
    }
  }

  #readLine(buffer: Uint8Array, from: number, to: number): number {
    for (let i = from; i < to; i++) {
      const c = buffer[i]!
      if (c !== LF) {
        if (c !== CR) this.#line += String.fromCharCode(c)
        continue
      }
      const line = this.#line
      this.#line = ''
      if (this.#body === 'chunk-data-end') this.#body = 'chunk-size'
      else if (this.#body === 'chunk-size') {
        const size = Number.parseInt(line.split(';')[0]!, 16)
        if (Number.isNaN(size)) {
          this.#fail(new Error(`bad chunk size line: ${line}`))
          return to
        }
        if (size === 0) this.#body = 'trailers'
        else {
          this.#body = 'chunk-data'
          this.#remaining = size
        }
      } else if (line === '') {
        // The empty line that ends the trailers ends the answer.
        this.#finish()
      }
      return i + 1
    }
    return to
  }

  #finish(): void {
    const pending = this.#pending
    this.#pending = undefined
    if (this.#closeAfter) this.close()
    pending?.resolve({ status: this.#status, bytes: this.#bytes })
  }

  #fail(error: Error): void {
    const pending = this.#pending
    this.#pending = undefined
    this.close()
    pending?.reject(error)
  }
}
