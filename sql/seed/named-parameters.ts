// Turns a statement written with @name placeholders into pg's $n form plus its value list, so the
// generation statements can share fragments without counting positional parameters.

export type ParameterValues = Readonly<Record<string, string | number | bigint | boolean | null>>

export interface BoundStatement {
  readonly text: string
  readonly values: unknown[]
}

export interface NamedStatement {
  readonly text: string
  /** The placeholder names in $n order. */
  readonly names: readonly string[]
}

/** Done once per statement at module load: the hot part (binding) is then a lookup per name. */
export function namedStatement(sqlText: string): NamedStatement {
  const names: string[] = []
  const placeholder = (_: string, name: string): string => {
    let index = names.indexOf(name)
    if (index < 0) index = names.push(name) - 1
    // Every seeding parameter is an integer: one type for all keeps pg's type inference simple.
    return `($${index + 1}::int8)`
  }
  // Odd pieces are string literals ('' escapes included): an @ inside them (an e-mail) stays text.
  const text = sqlText
    .split(/('(?:[^']|'')*')/)
    .map((piece, i) => (i % 2 === 1 ? piece : piece.replace(/@([a-z][a-z0-9_]*)/gi, placeholder)))
    .join('')
  return Object.freeze({ text, names: Object.freeze(names) })
}

export function bind(statement: NamedStatement, values: ParameterValues): BoundStatement {
  return {
    text: statement.text,
    values: statement.names.map((name) => {
      const value = values[name]
      if (value === undefined) throw new Error(`no value for @${name}`)
      return typeof value === 'bigint' ? value.toString() : value
    }),
  }
}
