// The pino consumer of the event bus: one JSON line per thing worth an operator's attention. It
// never sees an Authorization header, a password or a connection string: events do not carry them.
import pino, { type Logger } from 'pino'
import type { EventBus } from './events.ts'

export function createLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'arzti-fastpath' },
    // Belt and braces: should a header set or a URL ever be logged, these paths are masked.
    redact: { paths: ['headers.authorization', 'req.headers.authorization', '*.password', '*.connectionString', 'legacyUrl', 'arzswUrl', 'redisUrl', 'redisKeySecret', 'redisBodyKey'], censor: '[redacted]' },
  })
}

export function logEvents(events: EventBus, logger: Logger): () => void {
  return events.on((event) => {
    switch (event.type) {
      case 'request.served':
        // One line per request at debug: at info the hot path would pay for a JSON line per answer.
        if (logger.isLevelEnabled('debug')) logger.debug(event, 'request served')
        return
      case 'fast.deferred':
        if (logger.isLevelEnabled('debug')) logger.debug({ routeId: event.routeId, reason: event.reason, err: event.error?.message }, 'fast path deferred to legacy')
        return
      case 'upstream.failed':
        if (event.kind !== 'aborted') logger.warn({ requestId: event.requestId, code: event.code, kind: event.kind, status: event.status }, 'legacy upstream failed')
        return
      case 'flag.changed':
        logger.info({ routeId: event.routeId, from: event.from, to: event.to, by: event.by, source: event.source }, 'flag changed')
        return
      default:
        if (logger.isLevelEnabled('trace')) logger.trace(event, event.type)
    }
  })
}
