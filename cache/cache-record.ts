// The bytes of a cached answer in Redis: when its load began, where its timestamps go, and the answer's bytes.
import type { AnswerTemplate } from './answer-template.ts'

const RECORD_HEADER = 12

// An L2 record: load start (float64), slot count (uint32), the slots (uint32 each), the template's bytes.
export function encodeRecord(template: AnswerTemplate, loadStartedAt: number): Buffer {
  const { bytes, slots } = template
  const record = Buffer.allocUnsafe(RECORD_HEADER + slots.length * 4 + bytes.length)
  record.writeDoubleLE(loadStartedAt, 0)
  record.writeUInt32LE(slots.length, 8)
  for (let i = 0; i < slots.length; i++) record.writeUInt32LE(slots[i]!, RECORD_HEADER + i * 4)
  bytes.copy(record, RECORD_HEADER + slots.length * 4)
  return record
}

/** The record's parts, or undefined for bytes that are not a whole record (a miss, never a throw). */
export function decodeRecord(record: Buffer): { loadStartedAt: number; template: AnswerTemplate } | undefined {
  if (record.length < RECORD_HEADER) return undefined
  const count = record.readUInt32LE(8)
  if (record.length < RECORD_HEADER + count * 4) return undefined
  const slots = new Uint32Array(count)
  for (let i = 0; i < count; i++) slots[i] = record.readUInt32LE(RECORD_HEADER + i * 4)
  return { loadStartedAt: record.readDoubleLE(0), template: { bytes: record.subarray(RECORD_HEADER + count * 4), slots } }
}
