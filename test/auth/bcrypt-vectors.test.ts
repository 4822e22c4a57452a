// Issue 24: the native BCrypt reads $2a$, $2b$ and $2y$ hashes as the legacy's BCrypt.Net does. Known
// vectors (jBCrypt's test suite, which BCrypt.Net's tests share), each under the three prefixes (one
// algorithm: they differ only in how a C library once handled bytes above 0x7F, which these three all
// hash as UTF-8 like BCrypt.Net), through the native library, bcryptjs and the worker pool the proxy uses.
import bcryptjs from 'bcryptjs'
import t from 'tap'
import { nativeBcrypt } from '../../auth/bcrypt-native.ts'
import { BcryptPool } from '../../auth/bcrypt-pool.ts'

const VECTORS: ReadonlyArray<readonly [password: string, hash: string]> = [
  ['', '$2a$06$DCq7YPn5Rq63x1Lad4cll.TV4S6ytwfsfvkgY8jIucDrjc8deX1s.'],
  ['a', '$2a$06$m0CrhHm10qJ3lXRY.5zDGO3rS2KdeeWLuGmsfGlMfOxih58VYVfxe'],
  ['abc', '$2a$06$If6bvum7DFjUnE9p2uDeDu0YHzrHM6tf.iqN8.yx.jNN1ILEf7h0i'],
  ['abcdefghijklmnopqrstuvwxyz', '$2a$06$.rCVZVOThsIa97pEDOxvGuRRgzG64bvtJ0938xuqzv18d3ZpQhstC'],
  ['~!@#$%^&*()      ~!@#$%^&*()PNBFRD', '$2a$06$fPIsBO8qRqkjj273rfaOI.HtSV9jLDpTbZn782DC6/t7qT67P6FfO'],
]

const native = nativeBcrypt()

t.test('the native library loads on this platform (linux-x64 glibc; elsewhere bcryptjs serves)', async (t) => {
  t.ok(native, '@node-rs/bcrypt loaded')
})

t.test('known vectors verify under $2a$, $2b$ and $2y$; a wrong password does not', async (t) => {
  const pool = new BcryptPool(1)
  t.teardown(() => pool.close())
  for (const [password, hash] of VECTORS) {
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      const variant = prefix + hash.slice(4)
      t.equal(bcryptjs.compareSync(password, variant), true, `bcryptjs ${variant}`)
      t.equal(native!.compareSync(password, variant), true, `native ${variant}`)
      t.equal(await pool.compare(password, variant), true, `worker ${variant}`)
      t.equal(native!.compareSync(`${password}x`, variant), false, `native refuses a wrong password for ${variant}`)
      t.equal(await pool.compare(`${password}x`, variant), false, `worker refuses a wrong password for ${variant}`)
    }
  }
})

t.test('non-ASCII passwords (UTF-8, as BCrypt.Net) agree both ways between the libraries', async (t) => {
  for (const password of ['Richtig-12-äö', 'Passwort€ß', '日本語パス']) {
    const byJs = bcryptjs.hashSync(password, 4)
    const byNative = native!.hashSync(password, 4)
    for (const prefix of ['$2a$', '$2b$', '$2y$']) {
      t.equal(native!.compareSync(password, prefix + byJs.slice(4)), true, `native reads bcryptjs's ${prefix} hash of ${password}`)
      t.equal(bcryptjs.compareSync(password, prefix + byNative.slice(4)), true, `bcryptjs reads the native ${prefix} hash of ${password}`)
    }
  }
})

// ($2x$ and other prefixes never reach BCrypt: the verifier's WELL_FORMED_BCRYPT defers them to the legacy.)
t.test('a malformed hash matches nothing, never throws', async (t) => {
  const pool = new BcryptPool(1)
  t.teardown(() => pool.close())
  for (const hash of ['', 'garbage', '$2a$06$short']) {
    t.equal(await pool.compare('', hash), false, JSON.stringify(hash))
  }
})
