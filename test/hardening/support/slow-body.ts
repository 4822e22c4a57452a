// Hostile clients and bounded waits shared by the hardening tests (slow-bodies, hostile-load).
import net from 'node:net'

export interface SlowBody {
  /** Status of the answer (0: the connection closed without one) and when it came. */
  readonly answered: Promise<{ status: number; ms: number }>
  leave(): void
}

/** What a slow body is sent as: by default an anonymous POST, which the legacy answers (401) unread. */
export interface SlowTarget {
  readonly method: string
  readonly path: string
  readonly authorization?: string
}

const ANONYMOUS_POST: SlowTarget = { method: 'POST', path: '/api/Apotheken' }

/** A request announcing 100 bytes of body that sends one every `everyMs`, from `address` (X-Forwarded-For). */
export function slowBody(baseUrl: string, address: string, everyMs: number, target: SlowTarget = ANONYMOUS_POST): SlowBody {
  const url = new URL(baseUrl)
  const started = performance.now()
  const socket = net.connect(Number(url.port), url.hostname)
  socket.on('error', () => {})
  const credentials = target.authorization === undefined ? '' : `Authorization: ${target.authorization}\r\n`
  socket.write(`${target.method} ${target.path} HTTP/1.1\r\nHost: proxy\r\nX-Forwarded-For: ${address}\r\n${credentials}Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{`)
  const drip = setInterval(() => socket.write(' '), everyMs)
  let text = ''
  const answered = new Promise<{ status: number; ms: number }>((resolve) => {
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1')
      const status = /^HTTP\/1\.1 (\d{3})/.exec(text)
      if (status) resolve({ status: Number(status[1]), ms: performance.now() - started })
    })
    socket.on('close', () => {
      clearInterval(drip)
      resolve({ status: 0, ms: performance.now() - started })
    })
  })
  return { answered, leave: () => socket.destroy() }
}

/** Retries `attempt` until it holds, at most `limitMs`: bounded by answers, not by one long sleep. */
export async function eventually(limitMs: number, attempt: () => Promise<boolean>): Promise<boolean> {
  const until = performance.now() + limitMs
  while (performance.now() < until) {
    if (await attempt()) return true
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  return false
}
