// `npm run compare`'s command line: options parsed once into typed values, a wrong one named.
import t from 'tap'
import { parseCompareArgs } from '../../../tools/compare/cli-args.ts'

t.test('--legacy-name names the upstream in the report; without it the report chooses', async (t) => {
  t.equal(parseCompareArgs(['--proxy', 'http://p:8080', '--legacy-name', 'ArzTi3Server (staging)'], {}).legacyName, 'ArzTi3Server (staging)')
  t.equal(parseCompareArgs(['--proxy', 'http://p:8080'], {}).legacyName, undefined)
  t.throws(() => parseCompareArgs(['--legacy-name'], {}), /--legacy-name needs a value/, 'a missing value is a usage error')
  t.throws(() => parseCompareArgs(['--legacy-name', '--proxy'], {}), /--legacy-name needs a value/)
})
