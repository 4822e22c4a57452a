// Who is asking: the Authorization header (docs/legacy-contract.md §2) verified against ArzSw, and the
// tenant database its user's connection string names; or why the legacy must decide instead.
import { parseBasicCredentials } from '../../auth/basic-credentials.ts'
import type { CredentialVerifier } from '../../auth/credential-verifier.ts'
import { parseTenantDatabase, type TenantDatabase } from '../../tenants/npgsql-connection-string.ts'
import type { DeferReason } from '../contract.ts'
import { asError } from './database-failure.ts'

export type CallerOutcome =
  | { readonly ok: true; readonly database: TenantDatabase }
  | { readonly ok: false; readonly reason: DeferReason; readonly error?: Error }

type TenantParse = { ok: true; database: TenantDatabase } | { ok: false; error: Error }

const MAX_PARSED = 1000

export class Callers {
  readonly #verifier: CredentialVerifier
  // Parsed connection strings by their text; a handful of tenants, bounded anyway.
  readonly #tenants = new Map<string, TenantParse>()

  constructor(verifier: CredentialVerifier) {
    this.#verifier = verifier
  }

  /** The caller's tenant database, once the credentials are verified. May reject only if the verifier does. */
  async tenantOf(authorization: string | undefined): Promise<CallerOutcome> {
    const credentials = parseBasicCredentials(authorization)
    if (credentials === null) return { ok: false, reason: 'auth-unparsable' }
    const verified = await this.#verifier.verify(credentials)
    switch (verified.kind) {
      case 'unknown-user': return { ok: false, reason: 'auth-unknown-user' }
      case 'wrong-password': return { ok: false, reason: 'auth-wrong-password' }
      case 'unavailable': return { ok: false, reason: 'auth-unavailable', error: verified.error }
      case 'busy': return { ok: false, reason: 'auth-busy', error: verified.error }
      case 'verified': {
        const tenant = this.#tenantFor(verified.connectionString)
        return tenant.ok ? tenant : { ok: false, reason: 'tenant-unusable', error: tenant.error }
      }
    }
  }

  #tenantFor(connectionString: string): TenantParse {
    let parsed = this.#tenants.get(connectionString)
    if (parsed === undefined) {
      try {
        parsed = { ok: true, database: parseTenantDatabase(connectionString) }
      } catch (error) {
        parsed = { ok: false, error: asError(error) }
      }
      if (this.#tenants.size >= MAX_PARSED) this.#tenants.clear()
      this.#tenants.set(connectionString, parsed)
    }
    return parsed
  }
}
