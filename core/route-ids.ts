// The closed vocabularies every room speaks: which routes a fast path may take, and why one hands a
// request to the legacy. They live in core because events, metrics labels, flags and config name
// them, and core imports nothing above it; routes/contract.ts re-exports them beside the contract.

/** Ids of the routes a fast path may take: operators, flags, dashboards and other checks name them — keep them stable. */
export type RouteId = 'v2.rezept.list' | 'v2.rezept.pharmacy' | 'v1.prescriptions.new' | 'v2.rezept.statusuuid'
export const ROUTE_IDS: readonly RouteId[] = ['v2.rezept.list', 'v2.rezept.pharmacy', 'v1.prescriptions.new', 'v2.rezept.statusuuid']

/** Why a fast path handed a request to the legacy. A closed set so metrics labels stay bounded. */
export type DeferReason =
  | 'method'              // not the route's method
  | 'body'                // a request body the fast path does not fully understand (type, framing, size, shape, encoding)
  | 'accept'              // an Accept header that makes the legacy's plain-text answer depend on content negotiation
  | 'tenant-header'       // X-Tenant-Id present: the legacy answers 500 (docs/legacy-contract.md §2)
  | 'version-header'      // X-API-Version present: the legacy's versioning rules decide (§3)
  | 'query'               // a parameter the fast path does not fully understand (repeated, non-canonical, out of bounds)
  | 'page-size-limit'     // pageSize above the fast path's configured limit
  | 'auth-unparsable'     // Authorization header missing or not the legacy's Basic form
  | 'ambiguous-credentials' // two Authorization lines, or a comma list in one: the legacy joins and refuses them (issue 26)
  | 'auth-unknown-user'
  | 'auth-wrong-password'
  | 'auth-unavailable'    // ArzSw could not be asked
  | 'auth-busy'           // no BCrypt thread within the queue's bounds (issue 16): the legacy checks the password
  | 'tenant-unusable'     // connection string the fast path cannot turn into a pool
  | 'db-error'
  | 'db-timeout'
  | 'pool-busy'           // no connection within the acquire timeout
  | 'circuit-open'        // the tenant's database failed recently; not tried for a while
  | 'shed'                // over a concurrency cap
  | 'order-unproven'      // the legacy's order is the plan's and this plan's order is not reproducible (a Gather; docs/legacy-contract.md §12.9)
  | 'aborted'             // the caller withdrew (client gone, shadow run timed out or closing): nobody waits for the answer
