// Shows the seeder's progress: a redrawn bar on a terminal, plain lines (one per phase and per
// tenth of the work) when stderr is a file or a pipe, as in CI logs.
import type { SeedProgress } from './seed.ts'

export interface ProgressSink {
  readonly isTTY?: boolean
  readonly columns?: number
  write(text: string): boolean
}

const BAR_WIDTH = 30
const REDRAW_MS = 100

export function progressDisplay(out: ProgressSink, now: () => number = () => performance.now()): {
  update(progress: SeedProgress): void
  finish(): void
} {
  const started = now()
  let lastDraw = -Infinity
  let lastPhase = ''
  let lastTenth = -1
  let drawn = false
  const elapsed = () => `${((now() - started) / 1000).toFixed(1)} s`
  return {
    update(progress) {
      const fraction = progress.total > 0 ? progress.done / progress.total : 0
      const percent = Math.floor(fraction * 100)
      const where = progress.tenant ? `${progress.tenant}: ${progress.label}` : progress.label
      if (out.isTTY) {
        if (now() - lastDraw < REDRAW_MS && progress.phase !== 'done') return
        lastDraw = now()
        const filled = Math.round(fraction * BAR_WIDTH)
        const line = `[${'#'.repeat(filled)}${'.'.repeat(BAR_WIDTH - filled)}] ${String(percent).padStart(3)} % ${elapsed()}  ${where}`
        out.write(`\r${line.slice(0, (out.columns ?? 100) - 1).padEnd((out.columns ?? 100) - 1)}`)
        drawn = true
        return
      }
      const phase = `${progress.phase}/${progress.tenant ?? ''}`
      const tenth = Math.floor(fraction * 10)
      if (phase === lastPhase && tenth === lastTenth) return
      lastPhase = phase
      lastTenth = tenth
      out.write(`seed: ${String(percent).padStart(3)} % after ${elapsed()}: ${where}\n`)
    },
    finish() {
      if (drawn) out.write('\n')
    },
  }
}
