// What keeps Redis from learning anything (issue 16 point 9): key names are HMACs under a secret the
// instances share, and cached bodies may be sealed with AES-256-GCM, bound to the key they lie under.
import { createCipheriv, createDecipheriv, createHmac, createSecretKey, randomBytes, type KeyObject } from 'node:crypto'
import { DEV_REDIS_KEY_SECRET } from '../config/schema.ts'

// The development secret is a configuration default; it is re-exported for the cache's own default.
export { DEV_REDIS_KEY_SECRET }

/** A keyed hash of what names a Redis key: without the secret, not reproducible from guessed values. */
export class RedisKeyHasher {
  // A KeyObject: createHmac imports a string key anew on every call (credential-verifier.ts measured 8x).
  readonly #secret: KeyObject

  constructor(secret: string) {
    if (secret === '') throw new RangeError('Redis key secret must not be empty')
    this.#secret = createSecretKey(Buffer.from(secret, 'utf8'))
  }

  /** base64url, 32 characters (192 bits): fixed length, nothing the caller sent shapes the key. */
  hash(text: string): string {
    return createHmac('sha256', this.#secret).update(text).digest('base64url').slice(0, 32)
  }
}

const IV_BYTES = 12
const TAG_BYTES = 16

/** AES-256-GCM for cached bodies in Redis: a sealed record is IV ‖ tag ‖ ciphertext. */
export class BodySealer {
  readonly #key: KeyObject

  /** `key`: 32 bytes, base64 (as config option redisBodyKey holds it). */
  constructor(key: string) {
    const bytes = Buffer.from(key, 'base64')
    if (bytes.length !== 32) throw new RangeError('Redis body key must be 32 bytes, base64-encoded (e.g. `openssl rand -base64 32`)')
    this.#key = createSecretKey(bytes)
  }

  /**
   * `boundTo`: the Redis key the record is stored under, authenticated with it, so a record copied to
   * another key (another tenant's) does not open.
   */
  seal(plain: Buffer, boundTo: string): Buffer {
    const iv = randomBytes(IV_BYTES)
    const cipher = createCipheriv('aes-256-gcm', this.#key, iv)
    cipher.setAAD(Buffer.from(boundTo, 'utf8'))
    const head = Buffer.allocUnsafe(IV_BYTES + TAG_BYTES)
    iv.copy(head, 0)
    const body = Buffer.concat([cipher.update(plain), cipher.final()])
    cipher.getAuthTag().copy(head, IV_BYTES)
    return Buffer.concat([head, body], head.length + body.length)
  }

  /** The plain record, or undefined when it was not sealed with this key under this Redis key (a miss, never a throw). */
  open(sealed: Buffer, boundTo: string): Buffer | undefined {
    if (sealed.length < IV_BYTES + TAG_BYTES) return undefined
    try {
      const decipher = createDecipheriv('aes-256-gcm', this.#key, sealed.subarray(0, IV_BYTES))
      decipher.setAAD(Buffer.from(boundTo, 'utf8'))
      decipher.setAuthTag(sealed.subarray(IV_BYTES, IV_BYTES + TAG_BYTES))
      return Buffer.concat([decipher.update(sealed.subarray(IV_BYTES + TAG_BYTES)), decipher.final()])
    } catch {
      return undefined
    }
  }
}
