// What the client listener answers when Node's HTTP parser refuses a request (malformed framing,
// header too large, too slow): the same bytes Node's default handler writes, plus a `security` event
// so the refusal reaches the audit log.
import type { Duplex } from 'node:stream'
import type { EventBus } from '../../core/events.ts'

const ANSWERS: Record<number, Buffer> = {
  400: Buffer.from('HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n', 'latin1'),
  408: Buffer.from('HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n', 'latin1'),
  431: Buffer.from('HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n', 'latin1'),
}

// A socket's peer address is gone once the parser has failed and the socket closed: kept from the start.
const PEERS = new WeakMap<object, string>()

export function rememberPeer(socket: { remoteAddress?: string | undefined }): void {
  if (socket.remoteAddress !== undefined) PEERS.set(socket, socket.remoteAddress)
}

export function answerClientError(error: Error & { code?: string }, socket: Duplex, events: EventBus): void {
  const code = error.code ?? 'unknown'
  // A client that went away is no attack and gets no answer.
  if (code === 'ECONNRESET' || code === 'EPIPE') return void socket.destroy()
  const status = code === 'HPE_HEADER_OVERFLOW' ? 431 : code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400
  const message = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage
  if (socket.writable && (message === undefined || message === null || !message.headersSent)) socket.end(ANSWERS[status])
  socket.destroy()
  if (events.listening) {
    const address = PEERS.get(socket) ?? 'unknown'
    events.emit({ type: 'security', kind: status === 408 ? 'timeout' : 'bad-request', clientAddress: address, detail: `${status} ${code}` })
  }
}
