// The native BCrypt (@node-rs/bcrypt, Rust, a prebuilt binary per platform) when it loads here; else
// undefined and the callers use bcryptjs. Measured 2026-12-03 (bench/probes/bcrypt-micro.ts,
// docs/BENCHMARKS.md): about twice bcryptjs's comparisons per second per core.
import { createRequire } from 'node:module'

export interface NativeBcrypt {
  compareSync(password: string, hash: string): boolean
  hashSync(password: string, cost?: number): string
  compare(password: string, hash: string): Promise<boolean>
}

let loaded: NativeBcrypt | null | undefined

/** The native library, or undefined where no prebuilt binary loads (another platform, a failed install). */
export function nativeBcrypt(): NativeBcrypt | undefined {
  if (loaded === undefined) {
    try {
      // Required, not imported: a missing binary must be a fallback, not a failed start.
      loaded = createRequire(import.meta.url)('@node-rs/bcrypt') as NativeBcrypt
    } catch {
      loaded = null
    }
  }
  return loaded ?? undefined
}
