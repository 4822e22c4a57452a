// Keeps the flags of every proxy instance sharing a Redis in step: flags persist in a Redis hash, a
// change is published on a channel (seen in milliseconds) and the hash is re-read periodically so a
// missed message heals within `refreshMs`. Requests never wait on Redis: they read the local store.
import { Redis } from 'ioredis'
import type { RouteId } from '../contract.ts'
import { flagText, isRouteId, parseFlagText, type FlagSetting } from '../../core/flag-setting.ts'
import type { Demotion, FlagStore } from './flag-store.ts'

export interface FlagSyncOptions {
  readonly redisUrl: string
  readonly keyPrefix: string
  readonly refreshMs: number
  /** Called with what went wrong talking to Redis (logged; never thrown at a request). */
  readonly onError: (error: Error) => void
}

export class FlagSync {
  readonly #store: FlagStore
  readonly #options: FlagSyncOptions
  readonly #client: Redis
  readonly #subscriber: Redis
  readonly #key: string
  /** Why a route was demoted, beside its flag, so every instance can say it. */
  readonly #demotionsKey: string
  readonly #channel: string
  #timer: NodeJS.Timeout | undefined
  #closed = false
  #connected = false
  /**
   * Changes made here that Redis has not stored yet (it was away). They are written back before the
   * next re-read, so a flag set or a demotion during an outage is not undone by Redis's older value.
   */
  readonly #pending = new Map<RouteId, { flag: FlagSetting; demotion: Demotion | undefined }>()

  constructor(store: FlagStore, options: FlagSyncOptions) {
    this.#store = store
    this.#options = options
    this.#key = `${options.keyPrefix}flags`
    this.#demotionsKey = `${options.keyPrefix}flags:demotions`
    this.#channel = `${options.keyPrefix}flags:changed`
    const redisOptions = { maxRetriesPerRequest: 1, connectTimeout: 2000, enableOfflineQueue: true, lazyConnect: true }
    this.#client = new Redis(options.redisUrl, redisOptions)
    this.#subscriber = new Redis(options.redisUrl, redisOptions)
    this.#client.on('error', options.onError)
    this.#subscriber.on('error', options.onError)
  }

  /**
   * Seeds Redis with this instance's flags where it has none, then adopts what Redis holds. Redis away
   * at start does not stop the proxy: the flags stay local and Redis is tried again every refreshMs.
   */
  async start(): Promise<void> {
    this.#subscriber.on('message', (channel: string) => {
      if (channel === this.#channel) void this.refresh()
    })
    await this.#connect()
    this.#timer = setInterval(() => void (this.#connected ? this.refresh() : this.#connect()), this.#options.refreshMs)
    this.#timer.unref()
  }

  async #connect(): Promise<void> {
    if (this.#closed || this.#connected) return
    try {
      for (const client of [this.#client, this.#subscriber]) {
        if (client.status === 'wait' || client.status === 'end') await client.connect()
      }
      await this.#subscriber.subscribe(this.#channel)
      const seed = this.#client.multi()
      for (const [routeId, flag] of Object.entries(this.#store.all())) seed.hsetnx(this.#key, routeId, flagText(flag))
      await seed.exec()
      this.#connected = true
    } catch (error) {
      this.#options.onError(error as Error)
      return
    }
    await this.refresh()
  }

  /** Persists a change made on this instance (with the demotion behind it, if any) and tells the others. */
  async publish(routeId: RouteId, flag: FlagSetting, demotion?: Demotion): Promise<void> {
    // Kept until Redis has it: a failed write is retried before Redis's older value could win.
    this.#pending.set(routeId, { flag, demotion })
    // Redis away: ioredis would queue the commands until a reconnect gives up on them (seconds per
    // command), holding the operator's PUT or reload that long. The refresh timer writes it later.
    if (this.#client.status !== 'ready') throw new Error(`Redis is ${this.#client.status}: the change is kept here until Redis stores it`)
    await this.#writePending()
  }

  async #writePending(): Promise<void> {
    for (const [routeId, { flag, demotion }] of [...this.#pending]) {
      const write = this.#client.multi().hset(this.#key, routeId, flagText(flag))
      if (demotion) write.hset(this.#demotionsKey, routeId, JSON.stringify(demotion))
      else write.hdel(this.#demotionsKey, routeId)
      await write.exec()
      // A newer change made meanwhile stays pending for the next round.
      if (this.#pending.get(routeId)?.flag === flag) this.#pending.delete(routeId)
      await this.#client.publish(this.#channel, routeId)
    }
  }

  /** Re-reads every flag from Redis and applies the ones that differ. */
  async refresh(): Promise<void> {
    if (this.#closed) return
    if (this.#pending.size > 0) {
      try {
        await this.#writePending()
      } catch (error) {
        // Redis still away: what this instance decided stands until Redis has it.
        this.#options.onError(error as Error)
        return
      }
    }
    let stored: Record<string, string>
    let demotions: Record<string, string>
    try {
      const read = await this.#client.multi().hgetall(this.#key).hgetall(this.#demotionsKey).exec()
      if (!read || read[0]![0] || read[1]![0]) throw read?.[0]![0] ?? read?.[1]![0] ?? new Error('Redis MULTI was discarded')
      stored = read[0]![1] as Record<string, string>
      demotions = read[1]![1] as Record<string, string>
    } catch (error) {
      this.#options.onError(error as Error)
      return
    }
    for (const [routeId, text] of Object.entries(stored)) {
      if (!isRouteId(routeId)) continue
      const flag = parseFlagText(text)
      if (!flag.ok) {
        this.#options.onError(new Error(`Redis ${this.#key} ${routeId}: ${flag.message}`))
        continue
      }
      this.#store.set(routeId, flag.value, 'peer', 'peer', demotionOf(demotions[routeId]))
    }
  }

  /** For readiness: Redis answers a PING. */
  async ping(): Promise<boolean> {
    try {
      return (await this.#client.ping()) === 'PONG'
    } catch {
      return false
    }
  }

  async close(): Promise<void> {
    this.#closed = true
    if (this.#timer) clearInterval(this.#timer)
    this.#subscriber.disconnect()
    await this.#client.quit().catch(() => this.#client.disconnect())
  }
}

function demotionOf(text: string | undefined): Demotion | undefined {
  if (text === undefined) return undefined
  try {
    const value = JSON.parse(text) as Partial<Demotion>
    return typeof value.reason === 'string' && typeof value.at === 'string' ? { reason: value.reason, at: value.at } : undefined
  } catch {
    return undefined
  }
}
