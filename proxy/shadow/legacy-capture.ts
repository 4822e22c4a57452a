// Collects a copy of the legacy's answer as it streams to the client (status, Content-Type, body up
// to a cap): chunk references only, no copy and no waiting on the client's path.
import type { IncomingMessage } from 'node:http'

/** One side's answer as compared: what the client got from the legacy, or what a re-read got. */
export interface CapturedAnswer {
  readonly status: number
  readonly contentType: string | undefined
  readonly body: Buffer
  /** From the request's start to the answer's last byte. */
  readonly ms: number
}

/** Why there is no legacy answer to compare: over the body cap, or the exchange failed. */
export type CaptureLoss = 'over-cap' | 'failed'

export interface CaptureSink {
  readonly capBytes: number
  /** Called once: the whole answer, or why there is none. */
  done(answer: CapturedAnswer | CaptureLoss): void
}

/**
 * Listens beside the pipe to the client: a second 'data' listener sees the same chunks and adds
 * no buffering (the pipe keeps deciding when to pause). Over the cap the chunks are dropped.
 */
export function teeAnswer(proxyRes: IncomingMessage, startedAt: number, sink: CaptureSink): void {
  const chunks: Buffer[] = []
  let size = 0
  let over = false
  let settled = false
  const settle = (answer: CapturedAnswer | CaptureLoss) => {
    if (settled) return
    settled = true
    sink.done(answer)
  }
  proxyRes.on('data', (chunk: Buffer) => {
    if (over) return
    size += chunk.length
    if (size > sink.capBytes) {
      over = true
      chunks.length = 0
    } else chunks.push(chunk)
  })
  proxyRes.once('end', () => {
    const ms = performance.now() - startedAt
    // Joined on a later turn: the pipe's own 'end' (the client's last bytes) goes first.
    setImmediate(() => {
      if (over) return settle('over-cap')
      settle({ status: proxyRes.statusCode ?? 0, contentType: proxyRes.headers['content-type'], body: chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size), ms })
    })
  })
  proxyRes.once('close', () => {
    if (!proxyRes.complete) settle('failed')
  })
  proxyRes.once('error', () => settle('failed'))
}
