// Reads the client listener's certificate and key (tls.certFile, tls.keyFile) and checks that they
// belong together, at start-up and on every reload, so a bad pair is refused before it is served.
import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createSecureContext, type SecureContextOptions } from 'node:tls'
import { ConfigError, type TlsConfig } from '../config/load.ts'

export interface ServerCertificate {
  /** What https.createServer and server.setSecureContext take. */
  readonly context: SecureContextOptions
  /** SHA-256 fingerprint of the leaf certificate, for the log and the audit line. */
  readonly fingerprint256: string
  readonly validTo: string
}

/** Throws a ConfigError naming the option when a file cannot be read or parsed, or the key is not the certificate's. */
export function readServerCertificate(tls: TlsConfig): ServerCertificate {
  const cert = readPem('tls.certFile', tls.certFile)
  const key = readPem('tls.keyFile', tls.keyFile)
  let leaf: X509Certificate
  try {
    leaf = new X509Certificate(cert)
  } catch (error) {
    throw new ConfigError([`tls.certFile (${tls.certFile}): not a PEM certificate (${(error as Error).message})`])
  }
  let privateKey: KeyObject
  try {
    privateKey = createPrivateKey(key)
  } catch (error) {
    throw new ConfigError([`tls.keyFile (${tls.keyFile}): not an unencrypted PEM private key (${(error as Error).message})`])
  }
  if (!leaf.checkPrivateKey(privateKey)) {
    throw new ConfigError([`tls.keyFile (${tls.keyFile}): this key does not belong to the certificate in tls.certFile (${tls.certFile})`])
  }
  const context: SecureContextOptions = { cert, key, minVersion: tls.minVersion }
  try {
    createSecureContext(context) // what is left: a chain OpenSSL refuses
  } catch (error) {
    throw new ConfigError([`tls.certFile/tls.keyFile: refused by OpenSSL (${(error as Error).message})`])
  }
  return { context, fingerprint256: leaf.fingerprint256, validTo: leaf.validTo }
}

function readPem(option: string, path: string): string {
  try {
    return readFileSync(path, 'utf8')
  } catch (error) {
    throw new ConfigError([`${option} (${path}): cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`])
  }
}
