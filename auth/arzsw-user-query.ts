// The legacy's one ArzSw lookup of a login (docs/legacy-contract.md §2 step 2): exact login name,
// INNER JOINs to tenant and database, so a user whose tenant or database row is missing is unknown.
// Written once: the verifier reads the password columns and the connection string through it, the
// limits' tenant directory only the connection string (it never needs the passwords).
const ARZSW_USER_FROM = `FROM arzsw_benutzer b
  JOIN arzsw_mandant m ON m.arzsw_mandant_id = b.arzsw_mandant_id
  JOIN arzsw_datenbank d ON d.arzsw_datenbank_id = b.arzsw_datenbank_id
 WHERE b.login_name = $1`

/** Password, BCrypt hash and connection string of the login `$1`. */
export const ARZSW_USER_SQL = `SELECT b.login_passwort, b.login_passwort_crypt, d.datenbank_connection_string
  ${ARZSW_USER_FROM}`

/** Only the connection string of the login `$1`. */
export const ARZSW_TENANT_SQL = `SELECT d.datenbank_connection_string
  ${ARZSW_USER_FROM}`
