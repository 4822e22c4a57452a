// `npm run bench:fast-path`: kept as an alias of `npm run bench -- fast-path` (bench/main.ts, scenarios in bench/scenarios.json).
import { spawnSync } from 'node:child_process'

const result = spawnSync(process.execPath, [new URL('./main.ts', import.meta.url).pathname, 'fast-path', ...process.argv.slice(2)], { stdio: 'inherit' })
process.exitCode = result.status ?? 1
