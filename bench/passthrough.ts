// `npm run bench:passthrough`: kept as an alias of `npm run bench -- passthrough` (bench/main.ts, scenarios in bench/scenarios.json).
import { spawnSync } from 'node:child_process'

const result = spawnSync(process.execPath, [new URL('./main.ts', import.meta.url).pathname, 'passthrough', ...process.argv.slice(2)], { stdio: 'inherit' })
process.exitCode = result.status ?? 1
