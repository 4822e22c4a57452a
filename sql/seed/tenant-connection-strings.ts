// Writes the tenants' Npgsql connection strings, each tenant in a different legal keyword style so
// that every parser of arzsw_datenbank.datenbank_connection_string is exercised (docs/legacy-contract.md §2, step 4).
import type { TenantKey } from './tenants.ts'

export interface ServerAddress {
  readonly host: string
  readonly port: number
  readonly user: string
  /** Empty on trust-auth servers: then no password key is written at all. */
  readonly password: string
}

/** Host, port, user and password of a postgres:// URL (the PG_ADMIN_URL). */
export function serverAddressOf(adminUrl: string): ServerAddress {
  const url = new URL(adminUrl)
  return {
    // URL keeps IPv6 hosts in brackets; Npgsql wants the bare address.
    host: decodeURIComponent(url.hostname.replace(/^\[(.*)\]$/, '$1')) || '127.0.0.1',
    port: url.port ? Number(url.port) : 5432,
    user: decodeURIComponent(url.username) || 'postgres',
    password: decodeURIComponent(url.password),
  }
}

/**
 * gross: canonical keys. klein: the synonyms Server, User ID, Pwd plus a pool option.
 * leer: lower-case keys, the database name always quoted.
 */
export function npgsqlConnectionString(tenant: TenantKey, server: ServerAddress, database: string): string {
  const parts: string[] = []
  if (tenant === 'gross') {
    parts.push(`Host=${plain(server.host)}`, `Port=${server.port}`, `Database=${plain(database)}`, `Username=${plain(server.user)}`)
    if (server.password) parts.push(`Password=${plain(server.password)}`)
  } else if (tenant === 'klein') {
    parts.push(`Server=${plain(server.host)}`, `Port=${server.port}`, `Database=${plain(database)}`, `User ID=${plain(server.user)}`)
    if (server.password) parts.push(`Pwd=${plain(server.password)}`)
    parts.push('Maximum Pool Size=20')
  } else {
    parts.push(`host=${plain(server.host)}`, `port=${server.port}`, `database=${quoted(database)}`, `user id=${plain(server.user)}`)
    if (server.password) parts.push(`password=${quoted(server.password)}`)
  }
  return parts.join(';')
}

// DbConnectionStringBuilder grammar: a value with ; or quotes or outer blanks must be quoted.
function plain(value: string): string {
  return /[;"']|^\s|\s$/.test(value) ? quoted(value) : value
}

// Double quotes, an embedded double quote doubled: the form every Npgsql version reads back.
function quoted(value: string): string {
  return `"${value.replaceAll('"', '""')}"`
}
