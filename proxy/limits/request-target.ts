// Request targets the pass-through cannot hand on byte for byte: asterisk-form and absolute-form
// (RFC 9112 §3.2). http-proxy-3 would prefix them with `/`, so the legacy would see a target the
// client never sent; real clients send origin-form only, and Kestrel refuses `GET *` with 400 too.
export function isOriginForm(target: string | undefined): boolean {
  return target !== undefined && target.charCodeAt(0) === 0x2f /* / */
}
