// Who a request comes from, for limits and fair shares: the TCP peer, or behind a trusted load
// balancer the last entry of the header it appends (limits.clientAddressHeader).
import type { IncomingMessage } from 'node:http'

export function clientAddressOf(req: IncomingMessage, header: string | undefined): string {
  if (header !== undefined) {
    const value = req.headers[header]
    const text = Array.isArray(value) ? value[value.length - 1] : value
    // The last entry is the one the trusted load balancer appended; earlier ones the client wrote.
    const last = text?.slice(text.lastIndexOf(',') + 1).trim()
    if (last) return last
  }
  return req.socket.remoteAddress ?? 'unknown'
}
