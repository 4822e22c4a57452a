// The few bytes of PostgreSQL's streaming replication protocol and of pgoutput (proto_version 1) that the change feed reads and writes.
//
// Every CopyData message of a START_REPLICATION stream begins with one tag byte. The feed needs only:
// XLogData ('w'): Byte1 tag, Int64 WAL start, Int64 WAL end, Int64 send time, then one pgoutput message;
// primary keepalive ('k'): Byte1 tag, Int64 WAL end, Int64 send time, Byte1 reply requested.
// Of a pgoutput message only its tag is read, and of a Commit ('C': Int8 flags, Int64 commit LSN,
// Int64 end LSN, Int64 timestamp) its end LSN, to confirm. Tuples are never decoded.

export const XLOG_DATA = 0x77 // 'w'
export const PRIMARY_KEEPALIVE = 0x6b // 'k'

/** Where the pgoutput message starts inside an XLogData CopyData chunk. */
const XLOG_PAYLOAD = 25

export const PGOUTPUT_BEGIN = 0x42 // 'B'
export const PGOUTPUT_COMMIT = 0x43 // 'C'
export const PGOUTPUT_INSERT = 0x49 // 'I'
export const PGOUTPUT_UPDATE = 0x55 // 'U'
export const PGOUTPUT_DELETE = 0x44 // 'D'
export const PGOUTPUT_TRUNCATE = 0x54 // 'T'

/** The pgoutput message tag of an XLogData chunk (undefined when the chunk is too short to hold one). */
export function pgoutputTag(chunk: Buffer): number | undefined {
  return chunk[XLOG_PAYLOAD]
}

/** Whether a pgoutput tag is a row change (or a truncate) in a published table. */
export function isRowChange(tag: number | undefined): boolean {
  return tag === PGOUTPUT_INSERT || tag === PGOUTPUT_UPDATE || tag === PGOUTPUT_DELETE || tag === PGOUTPUT_TRUNCATE
}

/** The end LSN of the transaction a pgoutput Commit chunk closes: everything up to it has been received. */
export function commitEndLsn(chunk: Buffer): bigint {
  return chunk.readBigUInt64BE(XLOG_PAYLOAD + 10)
}

/** A keepalive's WAL end: the server has sent everything before it. */
export function keepaliveWalEnd(chunk: Buffer): bigint {
  return chunk.readBigUInt64BE(1)
}

export function keepaliveWantsReply(chunk: Buffer): boolean {
  return chunk[17] === 1
}

// PostgreSQL timestamps count microseconds from 2000-01-01 00:00:00 UTC.
const POSTGRES_EPOCH_MS = Date.UTC(2000, 0, 1)

/**
 * A standby status update ('r'): written, flushed and applied all set to `lsn`, so the server may
 * recycle WAL up to it. `replyRequested` asks the server for a keepalive back (a liveness probe).
 */
export function standbyStatusUpdate(lsn: bigint, nowMs: number, replyRequested: boolean): Buffer {
  const message = Buffer.allocUnsafe(34)
  message[0] = 0x72 // 'r'
  message.writeBigUInt64BE(lsn, 1)
  message.writeBigUInt64BE(lsn, 9)
  message.writeBigUInt64BE(lsn, 17)
  message.writeBigInt64BE(BigInt(nowMs - POSTGRES_EPOCH_MS) * 1000n, 25)
  message[33] = replyRequested ? 1 : 0
  return message
}

