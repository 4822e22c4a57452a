// A TCP relay in front of a server (Redis, the legacy) that a test can cut and restore on the same
// port, slow down, and read what clients sent through it: the faults a real network produces.
import { connect, createServer, type AddressInfo, type Server, type Socket } from 'node:net'

export interface TcpRelay {
  readonly port: number
  /** Added to every chunk, both ways; 0 forwards at once. */
  delayMs: number
  /** Everything clients sent through the relay, as latin1 text. */
  sent(): string
  /** Stops listening and cuts every open connection. */
  cut(): Promise<void>
  /** Listens again on the same port. */
  restore(): Promise<void>
}

export async function startTcpRelay(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpRelay> {
  const sockets = new Set<Socket>()
  let sentText = ''
  const forward = (client: Socket): void => {
    const upstream = connect(targetPort, targetHost)
    for (const socket of [client, upstream]) {
      sockets.add(socket)
      socket.on('error', () => socket.destroy())
      socket.on('close', () => sockets.delete(socket))
    }
    const pass = (from: Socket, to: Socket, record: boolean): void => {
      // After the delay, like the data: what was sent before a close still arrives first.
      const later = (act: () => void) => (relay.delayMs === 0 ? act() : void setTimeout(act, relay.delayMs))
      from.on('data', (chunk: Buffer) => {
        if (record) sentText += chunk.toString('latin1')
        later(() => to.write(chunk))
      })
      // A side that ends or goes away takes the other with it, as a real path does: a server that
      // closed (PostgreSQL refusing a connection) is not left looking alive to its client, nor a
      // client that left holding a server connection open.
      from.on('end', () => later(() => to.end()))
      from.on('close', () => later(() => to.destroy()))
    }
    pass(client, upstream, true)
    pass(upstream, client, false)
  }
  let server: Server = createServer(forward)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  const relay: TcpRelay = {
    port,
    delayMs: 0,
    sent: () => sentText,
    cut: () => new Promise<void>((resolve) => {
      server.close(() => resolve())
      for (const socket of sockets) socket.destroy()
    }),
    async restore() {
      server = createServer(forward)
      await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve))
    },
  }
  return relay
}

/** The Redis the tests use, behind a relay: `redis://127.0.0.1:<relay port>`. */
export async function redisRelay(redisUrl: string): Promise<TcpRelay & { readonly url: string }> {
  const target = new URL(redisUrl)
  const relay = await startTcpRelay(Number(target.port || 6379), target.hostname)
  return Object.assign(relay, { url: `redis://127.0.0.1:${relay.port}` })
}
