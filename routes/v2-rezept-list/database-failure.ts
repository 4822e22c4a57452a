// Sorts a failure on the way to a tenant's rows into the deferral reason it becomes (a closed set, for metrics).
import type { DeferReason } from '../contract.ts'

// PostgreSQL SQLSTATEs meaning "took too long": query_canceled (statement_timeout), lock_not_available.
const TIMEOUT_CODES = new Set(['57014', '55P03'])

/** 'pool-busy' when all connections were taken; 'db-timeout' for slow connects or statements; else 'db-error'. */
export function deferReasonForDatabaseFailure(error: unknown, poolWasFull: boolean): DeferReason {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && TIMEOUT_CODES.has(code)) return 'db-timeout'
  const message = error instanceof Error ? error.message : ''
  // pg-pool's and pg's own wording for an acquire or connect that ran out of time.
  if (message.includes('timeout exceeded when trying to connect') || message.includes('Connection terminated due to connection timeout')) {
    return poolWasFull ? 'pool-busy' : 'db-timeout'
  }
  if (message.includes('Query read timeout')) return 'db-timeout'
  return 'db-error'
}

export function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error))
}
