// Whether a request's credentials are ambiguous: two `Authorization` lines, or one line holding a
// comma list. The legacy joins repeated lines with `, ` and refuses the result (401), even when each
// line alone is valid (issue 26); Node's parser keeps only the first line, so a fast path reading
// `req.headers` would answer what the legacy refuses. Such requests are the legacy's to answer.
const NAME_LENGTH = 'authorization'.length

/** `rawHeaders`: Node's flat [name, value, …] list, every line as received. */
export function ambiguousCredentials(rawHeaders: readonly string[]): boolean {
  let seen = false
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!
    if (name.length !== NAME_LENGTH || name.toLowerCase() !== 'authorization') continue
    if (seen || rawHeaders[i + 1]!.includes(',')) return true
    seen = true
  }
  return false
}
