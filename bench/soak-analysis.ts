// What a soak run's samples say: per series (RSS, heap, open file descriptors) the value at the start
// of the measured window (after the warm-up), at its end, its maximum, and its growth per minute as
// the least-squares slope over the second half of the window; and the verdict against the thresholds.
// The first half is left out of the slope because caches, pools and V8's heap fill up there by design.

export interface SoakSample {
  /** Seconds since the measured window began (negative during the warm-up). */
  readonly seconds: number
  readonly rssMb: number
  readonly fds: number
  /** From the proxy's own /v2/performance/metrics; undefined when that read failed. */
  readonly heapUsedMb: number | undefined
}

export interface SeriesFigures {
  readonly start: number
  readonly end: number
  readonly max: number
  /** Least-squares slope over the second half of the measured window, per minute. */
  readonly growthPerMinute: number
}

export interface SoakThresholds {
  /** RSS growth above this (MB per minute, second half) means "growing". */
  readonly rssMbPerMinute: number
  /** Open file descriptor growth above this (per minute, second half) means "growing". */
  readonly fdsPerMinute: number
}

export interface SoakVerdict {
  readonly verdict: 'stable' | 'growing'
  readonly rss: SeriesFigures
  readonly fds: SeriesFigures
  /** Reported, not judged: heapUsed saws up and down with every collection. */
  readonly heapUsed: SeriesFigures | undefined
  readonly reasons: readonly string[]
}

/** Least-squares slope of y over x; 0 for fewer than two distinct x. */
export function slope(points: ReadonlyArray<readonly [number, number]>): number {
  const n = points.length
  if (n < 2) return 0
  let sx = 0
  let sy = 0
  for (const [x, y] of points) {
    sx += x
    sy += y
  }
  const mx = sx / n
  const my = sy / n
  let sxy = 0
  let sxx = 0
  for (const [x, y] of points) {
    sxy += (x - mx) * (y - my)
    sxx += (x - mx) ** 2
  }
  return sxx === 0 ? 0 : sxy / sxx
}

export function seriesFigures(samples: readonly SoakSample[], value: (s: SoakSample) => number | undefined): SeriesFigures | undefined {
  const measured = samples.filter((s) => s.seconds >= 0 && value(s) !== undefined)
  if (measured.length === 0) return undefined
  const values = measured.map((s) => value(s)!)
  const half = measured[measured.length - 1]!.seconds / 2
  const secondHalf = measured.filter((s) => s.seconds >= half).map((s) => [s.seconds / 60, value(s)!] as const)
  return { start: values[0]!, end: values[values.length - 1]!, max: Math.max(...values), growthPerMinute: slope(secondHalf) }
}

export function judgeSoak(samples: readonly SoakSample[], thresholds: SoakThresholds): SoakVerdict {
  const rss = seriesFigures(samples, (s) => s.rssMb)
  const fds = seriesFigures(samples, (s) => s.fds)
  if (rss === undefined || fds === undefined) throw new Error('no samples in the measured window: was the proxy process readable under /proc?')
  const reasons: string[] = []
  if (rss.growthPerMinute > thresholds.rssMbPerMinute) reasons.push(`RSS grows ${rss.growthPerMinute.toFixed(2)} MB/min (threshold ${thresholds.rssMbPerMinute})`)
  if (fds.growthPerMinute > thresholds.fdsPerMinute) reasons.push(`open file descriptors grow ${fds.growthPerMinute.toFixed(2)}/min (threshold ${thresholds.fdsPerMinute})`)
  return { verdict: reasons.length === 0 ? 'stable' : 'growing', rss, fds, heapUsed: seriesFigures(samples, (s) => s.heapUsedMb), reasons }
}
