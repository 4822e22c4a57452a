// The seeded installation's fixed facts: its three tenants, their databases and their API users.

export type TenantKey = 'gross' | 'klein' | 'leer'

export interface SeedUser {
  readonly login: string
  readonly password: string
  readonly tenant: TenantKey
  /** BCrypt cost, or null when only the plain-text column holds the password. */
  readonly bcryptCost: number | null
}

/** The API users `seed()` creates (issue 2, item 3). Tests and benchmarks log in with these. */
export const SEED_USERS: readonly SeedUser[] = Object.freeze([
  Object.freeze({ login: 'arz-gross', password: 'gross-Geheim1', tenant: 'gross', bcryptCost: 10 }),
  Object.freeze({ login: 'arz-klein', password: 'klein-Geheim2', tenant: 'klein', bcryptCost: null }),
  Object.freeze({ login: 'arz-leer', password: 'leer-Geheim3', tenant: 'leer', bcryptCost: 12 }),
] as const)

export const TENANT_KEYS: readonly TenantKey[] = Object.freeze(['gross', 'klein', 'leer'] as const)

export const DEFAULT_PREFIX = 'fastpath_'

export interface SeedDatabaseNames {
  readonly arzsw: string
  readonly tenants: Readonly<Record<TenantKey, string>>
}

/** The databases `seed()` (re)creates for a prefix, e.g. fastpath_arzsw, fastpath_apoti_gross. */
export function seedDatabaseNames(prefix: string = DEFAULT_PREFIX): SeedDatabaseNames {
  return Object.freeze({
    arzsw: `${prefix}arzsw`,
    tenants: Object.freeze({
      gross: `${prefix}apoti_gross`,
      klein: `${prefix}apoti_klein`,
      leer: `${prefix}apoti_leer`,
    }),
  })
}

/** The user who logs in to a tenant. */
export function seedUserFor(tenant: TenantKey): SeedUser {
  const user = SEED_USERS.find((u) => u.tenant === tenant)
  if (!user) throw new Error(`no seed user for tenant ${tenant}`)
  return user
}
