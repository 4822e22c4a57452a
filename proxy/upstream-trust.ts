// The CAs trusted for HTTPS to the legacy: the PEM bundle of upstream.caFile, read once at start-up.
// It replaces Node's built-in CAs for every connection to the legacy (pass-through, shadow reads,
// readiness), so only the CA that signs the legacy's certificate can vouch for it.
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { ConfigError } from '../config/load.ts'

/** The bundle's text, or undefined for the built-in CAs; throws a ConfigError when the file holds no certificate. */
export function readUpstreamCa(caFile: string | undefined): string | undefined {
  if (caFile === undefined) return undefined
  let bundle: string
  try {
    bundle = readFileSync(caFile, 'utf8')
  } catch (error) {
    throw new ConfigError([`upstream.caFile (${caFile}): cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`])
  }
  try {
    new X509Certificate(bundle) // the first certificate parses: the file is a PEM bundle, not a key or DER
  } catch {
    throw new ConfigError([`upstream.caFile (${caFile}): holds no PEM certificate`])
  }
  return bundle
}
