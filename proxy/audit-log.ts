// The audit trail: admin actions (flag changes with their source, demotions, config reloads) and
// security events (limit hits, failed-login bursts, requests refused as malformed) as one JSON line
// each — who, what, when, request id, client address — on a destination of its own, apart from the
// operational log. Events carry no password, connection string or body, and nothing here adds one;
// the free texts some events carry (an error, a reason) are stripped of credentials besides.
import pino, { type Logger } from 'pino'
import type { EventBus, ProxyEvent } from '../core/events.ts'

/**
 * `stderr`, `stdout`, `off`, or a file path (appended, created with its folder). Written synchronously:
 * audit lines are few (repeats are folded) and must survive a crash right after the event.
 */
export function createAuditLogger(destination: string): Logger | undefined {
  if (destination === 'off') return undefined
  const stream = destination === 'stderr' ? pino.destination({ fd: 2, sync: true })
    : destination === 'stdout' ? pino.destination({ fd: 1, sync: true })
    : pino.destination({ dest: destination, mkdir: true, append: true, sync: true })
  return pino({ level: 'info', base: { service: 'arzti-fastpath', log: 'audit' }, timestamp: pino.stdTimeFunctions.isoTime }, stream)
}

// Under attack the same refusal repeats thousands of times: one line per subject and kind per window,
// with the count of the ones not written since.
const REPEAT_WINDOW_MS = 10_000
const MAX_REPEAT_KEYS = 10_000

export function auditEvents(events: EventBus, audit: Logger, now: () => number = Date.now): () => void {
  const lastWritten = new Map<string, { at: number; suppressed: number }>()
  return events.on((event: ProxyEvent) => {
    switch (event.type) {
      case 'flag.changed':
        audit.info({ event: 'flag.changed', who: event.by, source: event.source, what: { routeId: event.routeId, from: event.from, to: event.to } }, 'flag changed')
        return
      case 'route.demoted':
        audit.info({ event: 'route.demoted', who: 'shadow-comparison', what: { routeId: event.routeId, reason: withoutSecrets(event.reason) } }, 'route demoted')
        return
      case 'config.reloaded':
        audit.info({ event: 'config.reloaded', who: event.by, ok: event.ok, what: { changed: event.changed }, ...(event.error ? { error: withoutSecrets(event.error) } : {}) }, event.ok ? 'configuration reloaded' : 'configuration reload rejected')
        return
      case 'security': {
        const key = `${event.kind}\u0000${event.subject ?? ''}\u0000${event.clientAddress}\u0000${event.detail ?? ''}`
        const t = now()
        const seen = lastWritten.get(key)
        if (seen !== undefined && t - seen.at < REPEAT_WINDOW_MS) {
          seen.suppressed++
          return
        }
        if (lastWritten.size >= MAX_REPEAT_KEYS) lastWritten.clear()
        lastWritten.set(key, { at: t, suppressed: 0 })
        audit.warn({
          event: `security.${event.kind}`,
          who: { login: event.subject === undefined ? null : printable(event.subject), clientAddress: event.clientAddress },
          requestId: event.requestId ?? null,
          ...(event.retryAfterS === undefined ? {} : { retryAfterS: event.retryAfterS }),
          ...(event.detail === undefined ? {} : { what: withoutSecrets(event.detail) }),
          ...(seen && seen.suppressed > 0 ? { repeatsNotLogged: seen.suppressed } : {}),
        }, 'security event')
        return
      }
      default:
    }
  })
}

/** A presented login is caller-controlled: bounded and without control characters in the audit line. */
function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  const clean = text.replace(/[\u0000-\u001f\u007f]/g, '?')
  return clean.length > 64 ? `${clean.slice(0, 64)}…` : clean
}

/**
 * A free text (an error message, a reason) with the credentials it might quote masked: the user-info
 * of a URL (`postgres://user:secret@`), an Npgsql `Password=`, an Authorization value.
 */
export function withoutSecrets(text: string): string {
  return text
    .replace(/([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1[redacted]@')
    .replace(/\b(password|pwd)\s*=\s*[^;\s]*/gi, '$1=[redacted]')
    .replace(/\b(basic|bearer)\s+[A-Za-z0-9+/=._~-]+/gi, '$1 [redacted]')
}
