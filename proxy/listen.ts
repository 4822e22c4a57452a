// Binding servers to ports: listen and report the URL, or find a port nobody listens on.
import type { AddressInfo, Server } from 'node:net'
import { createServer } from 'node:net'

/** Listens and resolves with `http://host:port` (or `https:`; IPv6 hosts bracketed); rejects on a bind error. */
export async function listen(server: Server, port: number, host: string, scheme: 'http' | 'https' = 'http'): Promise<string> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => {
      server.off('error', reject)
      resolve()
    })
  })
  const { address, port: bound } = server.address() as AddressInfo
  return `${scheme}://${address.includes(':') ? `[${address}]` : address}:${bound}`
}

/** A port that was free a moment ago: for child processes that need one named, and for "nobody listens here". */
export async function freePort(host = '127.0.0.1'): Promise<number> {
  const probe = createServer()
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject)
    probe.listen(0, host, resolve)
  })
  const { port } = probe.address() as AddressInfo
  await new Promise<void>((resolve) => probe.close(() => resolve()))
  return port
}
