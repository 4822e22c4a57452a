// A request body read whole for a fast path that needs it (RouteSpec.maxBodyBytes): only a body whose
// length is announced once (Content-Length, no Transfer-Encoding) and within the route's bound. The
// bytes read are kept as they came, so a deferred request reaches the legacy with the very same body
// (the pass-through sends them instead of the drained stream, legacy-upstream.ts). A client that
// trickles is held to the same pace as a body streamed to the legacy (limits.bodyMinBytesPerSecond,
// bodyRateGraceMs, bodyTimeoutMs: `tooSlow`), and to the server's request timeout besides.
import type { IncomingMessage } from 'node:http'
import { watchBodyPace, type BodyPaceSettings } from './limits/body-pace.ts'

/**
 * undefined: not a body to buffer (no or repeated Content-Length, chunked, over `maxBytes`, repeated
 * Content-Type): the request goes to the legacy streamed, as any other. Else a promise of the whole
 * body, or of undefined when the client went away, the stream failed before its end, or the body
 * fell behind `pace` (then `tooSlow` was called first, to answer and close).
 */
export function readBoundedBody(req: IncomingMessage, maxBytes: number, pace?: { readonly settings: BodyPaceSettings; readonly tooSlow: () => void }): Promise<Buffer | undefined> | undefined {
  if (req.headers['transfer-encoding'] !== undefined) return undefined
  const length = req.headers['content-length']
  if (length === undefined || !/^[0-9]{1,9}$/.test(length) || Number(length) > maxBytes) return undefined
  // Node keeps the first of repeated Content-Type lines; the legacy's server would see them all.
  let lengths = 0
  let types = 0
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i]!.toLowerCase()
    if (name === 'content-length') lengths++
    else if (name === 'content-type') types++
  }
  if (lengths !== 1 || types > 1) return undefined
  const expected = Number(length)
  return new Promise((resolve) => {
    const chunks: Buffer[] = []
    let size = 0
    let stopPace = (): void => {}
    const done = (body: Buffer | undefined) => {
      stopPace()
      req.off('data', onData)
      req.off('end', onEnd)
      req.off('error', onFail)
      req.off('close', onFail)
      resolve(body)
    }
    const onData = (chunk: Buffer) => {
      size += chunk.length
      chunks.push(chunk)
    }
    // Node's parser stops at Content-Length, so `size` is `expected` unless the client left early.
    const onEnd = () => done(size === expected ? Buffer.concat(chunks, size) : undefined)
    const onFail = () => done(undefined)
    req.on('data', onData)
    req.once('end', onEnd)
    req.once('error', onFail)
    req.once('close', onFail)
    if (pace !== undefined) {
      stopPace = watchBodyPace(req, pace.settings, () => {
        done(undefined)
        pace.tooSlow()
      })
    }
  })
}
