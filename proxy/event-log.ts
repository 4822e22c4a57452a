// The pino consumer of the event bus: one JSON line per thing worth an operator's attention. It
// never sees an Authorization header, a password or a connection string: events do not carry them.
import pino, { type DestinationStream, type Logger } from 'pino'
import type { EventBus } from '../core/events.ts'

/** The operational log: stdout, or `destination` (tests). Times as ISO 8601 UTC, as in the audit log. */
export function createLogger(level: string, destination?: DestinationStream): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service: 'arzti-fastpath' },
    timestamp: pino.stdTimeFunctions.isoTime,
    // Belt and braces: should a header set or a URL ever be logged, these paths are masked.
    redact: { paths: ['headers.authorization', 'req.headers.authorization', '*.password', '*.connectionString', 'legacyUrl', 'arzswUrl', 'redisUrl', 'redisKeySecret', 'redisBodyKey'], censor: '[redacted]' },
  }
  return destination === undefined ? pino(options) : pino(options, destination)
}

/**
 * `flagChanges: false` when the audit log writes them: one line per flag change, in the audit trail
 * (its `flag.changed` line has who, source, from and to); the operational log has it only when
 * auditing is off.
 */
export function logEvents(events: EventBus, logger: Logger, options: { flagChanges: boolean } = { flagChanges: true }): () => void {
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
        if (options.flagChanges) logger.info({ routeId: event.routeId, from: event.from, to: event.to, by: event.by, source: event.source }, 'flag changed')
        return
      default:
        if (logger.isLevelEnabled('trace')) logger.trace(event, event.type)
    }
  })
}
