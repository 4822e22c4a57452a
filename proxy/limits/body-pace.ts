// Bounds how slowly a client may send a request body on its way to the legacy: an average rate
// after a grace period (Kestrel's MinRequestBodyDataRate) and a deadline for the whole body. A
// trickle resets every idle timeout, so only these free the legacy connection such a body holds.
import type { IncomingMessage } from 'node:http'

export interface BodyPaceSettings {
  /** 0: no minimum rate. */
  readonly minBytesPerSecond: number
  readonly graceMs: number
  /** 0: no deadline. */
  readonly deadlineMs: number
}

/**
 * Calls `tooSlow` once if the body falls behind; returns a stop for when it is no longer needed.
 * Stops by itself when the body is complete or the request goes away.
 */
export function watchBodyPace(req: IncomingMessage, settings: BodyPaceSettings, tooSlow: () => void): () => void {
  if (req.complete || (settings.minBytesPerSecond === 0 && settings.deadlineMs === 0)) return noop
  const startedAt = performance.now()
  // Bytes off the socket, not 'data' listeners: a listener would start the body flowing before the
  // pass-through pipes it.
  const socket = req.socket
  const before = socket.bytesRead
  const check = () => {
    // Held back by the legacy reading slowly (backpressure): not the client's fault.
    if (req.isPaused()) return
    const elapsed = performance.now() - startedAt
    if (elapsed >= settings.graceMs && socket.bytesRead - before < (settings.minBytesPerSecond * elapsed) / 1000) fire()
  }
  // Checked a few times per grace period: a body below the rate is cut soon after it falls behind.
  const tick = settings.minBytesPerSecond === 0 ? undefined : setInterval(check, Math.max(50, Math.min(1000, settings.graceMs / 2)))
  const deadline = settings.deadlineMs === 0 ? undefined : setTimeout(fire, settings.deadlineMs)
  tick?.unref()
  deadline?.unref()
  function stop(): void {
    clearInterval(tick)
    clearTimeout(deadline)
    req.off('end', stop)
    req.off('close', stop)
  }
  function fire(): void {
    stop()
    tooSlow()
  }
  req.once('end', stop)
  req.once('close', stop)
  return stop
}

function noop(): void {}
