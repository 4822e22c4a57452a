// Whether a fast answer equals the legacy's, and where not: the shadow comparison's rules (status,
// Content-Type, bodies with the volatile timestamps blanked by JSON position), reused as they are.
import { differences, sameAnswer, type ComparedSide } from '../../proxy/shadow/answer-comparison.ts'

export interface AnswerDifference {
  readonly path: string
  readonly legacy: string
  readonly fast: string
}

/** Differences of `fast` from `legacy`; empty when they are the same answer. */
export function answerDifferences(legacy: ComparedSide, fast: ComparedSide, maxPaths = 5): AnswerDifference[] {
  if (sameAnswer(legacy, fast)) return []
  const found = differences(legacy, fast, 80, maxPaths).list
  // sameAnswer and differences agree except on a case differences cannot name: say so rather than nothing.
  return found.length > 0 ? found : [{ path: '$', legacy: '(differs)', fast: '(differs)' }]
}
