// Reads the PromQL out of a Grafana dashboard: every `expr` of its panels (rows and repeats included) and annotations.

export function dashboardQueries(dashboard: unknown): string[] {
  const found: string[] = []
  const walk = (node: unknown): void => {
    if (Array.isArray(node)) return node.forEach(walk)
    if (node === null || typeof node !== 'object') return
    for (const [key, value] of Object.entries(node)) {
      if (key === 'expr' && typeof value === 'string') found.push(value)
      else walk(value)
    }
  }
  walk(dashboard)
  return found
}

/** Every fastpath_ metric name in a text (PromQL, YAML, Markdown). */
export function metricNamesIn(text: string): Set<string> {
  return new Set(text.match(/\bfastpath_[a-z0-9_]+/g) ?? [])
}
