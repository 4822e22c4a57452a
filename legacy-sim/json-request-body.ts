// Reads a [FromBody] JSON request as MVC does: 415 for a non-JSON type, 400 problems for an empty or unparsable body, case-insensitive names.
import type { IncomingMessage, ServerResponse } from 'node:http'
import { sendUnsupportedMediaType, sendValidationProblem } from './http-responses.ts'

const JSON_MEDIA_TYPE = /^(application\/json|text\/json|application\/[^;\s]+\+json)\s*(;|$)/i

function readAll(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = []
    req.on('data', (chunk: Buffer) => chunks.push(chunk))
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')))
    req.on('error', reject)
  })
}

/** A conversion failure as System.Text.Json reports it; positions are not reproduced (see docs/legacy-sim.md). */
export function conversionError(path: string, dotnetType: string): [string, string] {
  return [path, `The JSON value could not be converted to ${dotnetType}. Path: ${path} | LineNumber: 0 | BytePositionInLine: 0.`]
}

const LITERALS: Record<string, string> = { n: 'null', t: 'true', f: 'false' }

/**
 * System.Text.Json's reader message for a body that does not parse, where its first value is the
 * problem (measured for `not json`: `'not json' is an invalid JSON literal. Expected the literal
 * 'null'. Path: $ | LineNumber: 0 | BytePositionInLine: 1.`): a misspelt literal, or a character
 * that starts no value. Errors deeper in a document keep a generic text (see docs/legacy-sim.md).
 */
export function unparsableJsonMessage(text: string): string {
  let line = 0
  let lineStart = 0
  let i = 0
  for (; i < text.length && /[ \t\r\n]/.test(text[i]!); i++) {
    if (text[i] === '\n') {
      line++
      lineStart = i + 1
    }
  }
  const where = (at: number) => `Path: $ | LineNumber: ${line} | BytePositionInLine: ${Buffer.byteLength(text.slice(lineStart, at))}.`
  const literal = LITERALS[text[i]!]
  if (literal !== undefined) {
    let mismatch = 1
    while (mismatch < literal.length && text[i + mismatch] === literal[mismatch]) mismatch++
    return `'${text.slice(i)}' is an invalid JSON literal. Expected the literal '${literal}'. ${where(i + mismatch)}`
  }
  if (!/[{["\-0-9]/.test(text[i]!)) return `'${text[i]}' is an invalid start of a value. ${where(i)}`
  return `The JSON value is not valid. ${where(i)}`
}

/**
 * The parsed body, or undefined after answering 415/400 itself. A JSON `null` body is the
 * validation error "The request field is required." like a missing object.
 */
export async function readJsonBody(req: IncomingMessage, res: ServerResponse): Promise<unknown> {
  const contentType = req.headers['content-type']
  if (contentType === undefined || !JSON_MEDIA_TYPE.test(contentType)) {
    req.resume()
    sendUnsupportedMediaType(res)
    return undefined
  }
  const text = await readAll(req)
  if (text.trim() === '') {
    sendValidationProblem(res, [['', 'A non-empty request body is required.']])
    return undefined
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    sendValidationProblem(res, [['$', unparsableJsonMessage(text)], ['request', 'The request field is required.']])
    return undefined
  }
  if (value === null) {
    sendValidationProblem(res, [['request', 'The request field is required.']])
    return undefined
  }
  return value
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
}

/** A property looked up case-insensitively (JsonSerializerDefaults.Web); the last duplicate wins. */
export function property(object: Record<string, unknown>, name: string): unknown {
  const wanted = name.toLowerCase()
  let found: unknown = undefined
  for (const key in object) if (key.toLowerCase() === wanted) found = object[key]
  return found
}
