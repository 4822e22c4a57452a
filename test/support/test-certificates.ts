// Throwaway certificates for the TLS tests, made with openssl in a temporary folder: a test CA, two
// server certificates for 127.0.0.1/localhost signed by it (the second one for rotation), and a
// server certificate of another CA that nothing trusts. Keys are P-256: fast to make.
import { spawnSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface TestKeyPair {
  readonly certFile: string
  readonly keyFile: string
}

export interface TestCertificates {
  readonly dir: string
  /** The test CA's certificate (PEM file) and its text. */
  readonly caFile: string
  readonly ca: string
  /** A CA that signed none of the server certificates below except `foreign`. */
  readonly otherCaFile: string
  readonly server: TestKeyPair
  readonly rotated: TestKeyPair
  /** Signed by the other CA. */
  readonly foreign: TestKeyPair
  remove(): void
}

const SERVER_EXTENSIONS = 'subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\nkeyUsage=digitalSignature\nextendedKeyUsage=serverAuth\n'

/** Undefined when openssl is missing: the caller fails naming the package, as test/docs does. */
export function makeTestCertificates(): TestCertificates | undefined {
  if (spawnSync('openssl', ['version']).error) return undefined
  const dir = mkdtempSync(join(tmpdir(), 'arzti-tls-'))
  const file = (name: string) => join(dir, name)
  writeFileSync(file('server.ext'), SERVER_EXTENSIONS)
  const makeCa = (name: string) => openssl('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '2', '-subj', `/CN=arzti-fastpath ${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.pem`))
  const makeServer = (name: string, ca: string): TestKeyPair => {
    openssl('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', `/CN=${name}`, '-keyout', file(`${name}.key`), '-out', file(`${name}.csr`))
    openssl('x509', '-req', '-in', file(`${name}.csr`), '-CA', file(`${ca}.pem`), '-CAkey', file(`${ca}.key`), '-set_serial', `0x${Date.now().toString(16)}${name.length}`, '-days', '2', '-extfile', file('server.ext'), '-out', file(`${name}.pem`))
    return { certFile: file(`${name}.pem`), keyFile: file(`${name}.key`) }
  }
  makeCa('test-ca')
  makeCa('other-ca')
  return {
    dir,
    caFile: file('test-ca.pem'),
    ca: readFileSync(file('test-ca.pem'), 'utf8'),
    otherCaFile: file('other-ca.pem'),
    server: makeServer('server', 'test-ca'),
    rotated: makeServer('rotated', 'test-ca'),
    foreign: makeServer('foreign', 'other-ca'),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}

function openssl(...args: string[]): void {
  const run = spawnSync('openssl', args, { encoding: 'utf8' })
  if (run.status !== 0) throw new Error(`openssl ${args[0]} failed: ${run.stderr}`)
}
