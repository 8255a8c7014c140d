// Signing deliveries and verifying them on the receiving side. The header is
// `Innkeeper-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the
// receiver's secret; `verifyWebhook` compares in constant time, rejects timestamps outside a
// tolerance (stale or replayed later), and with `seen` rejects an event id already processed.
import { createHmac, timingSafeEqual } from 'node:crypto'
import { InnkeeperError } from '../errors.js'
import type { WebhookEvent } from './events.js'

export const SIGNATURE_HEADER = 'Innkeeper-Signature'

export function signatureOf(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
}

/** The header value for `body` sent at `nowMs`. */
export function signWebhook(body: string, secret: string, nowMs: number = Date.now()): string {
  const timestamp = Math.floor(nowMs / 1000)
  return `t=${timestamp},v1=${signatureOf(secret, timestamp, body)}`
}

export interface VerifyWebhookOptions {
  /** Largest accepted difference between the header's time and now (default 300 s). */
  toleranceSeconds?: number
  /** The receiver's clock in ms (default Date.now). */
  now?: number | (() => number)
  /**
   * Replay protection: a Set of event ids already processed (the verified id is added to it), or a
   * function that answers true when the id was seen and records it otherwise.
   */
  seen?: Set<string> | ((eventId: string) => boolean | Promise<boolean>)
}

/** Why a delivery was refused; `code` is stable. */
export class WebhookVerificationError extends InnkeeperError {
  constructor(
    readonly reason: 'malformed' | 'bad_signature' | 'stale' | 'replayed',
    message: string,
  ) {
    super('invalid_request', message, { status: 400, details: { reason } })
  }
}

/**
 * Checks a delivery: the raw body exactly as received (a string or bytes, not re-serialised JSON),
 * the `Innkeeper-Signature` header and the secret shown when the receiver was added. Answers the
 * parsed event; throws WebhookVerificationError otherwise.
 */
export async function verifyWebhook(
  body: string | Uint8Array,
  header: string | null | undefined,
  secret: string,
  options: VerifyWebhookOptions = {},
): Promise<WebhookEvent> {
  const text = typeof body === 'string' ? body : Buffer.from(body).toString('utf8')
  const parts = new Map<string, string[]>()
  for (const piece of (header ?? '').split(',')) {
    const [key, ...rest] = piece.trim().split('=')
    if (!key || rest.length === 0) continue
    parts.set(key, [...(parts.get(key) ?? []), rest.join('=')])
  }
  const timestamp = Number(parts.get('t')?.[0])
  const candidates = parts.get('v1') ?? []
  if (!Number.isInteger(timestamp) || candidates.length === 0) {
    throw new WebhookVerificationError('malformed', `The ${SIGNATURE_HEADER} header is missing or malformed.`)
  }
  const expected = Buffer.from(signatureOf(secret, timestamp, text), 'hex')
  const matches = candidates.some((candidate) => {
    const given = Buffer.from(candidate, 'hex')
    return given.length === expected.length && timingSafeEqual(given, expected)
  })
  if (!matches) {
    throw new WebhookVerificationError(
      'bad_signature',
      'The webhook signature does not match its body and secret.',
    )
  }
  const nowMs = typeof options.now === 'function' ? options.now() : (options.now ?? Date.now())
  const tolerance = options.toleranceSeconds ?? 300
  if (Math.abs(Math.floor(nowMs / 1000) - timestamp) > tolerance) {
    throw new WebhookVerificationError(
      'stale',
      `The webhook was signed more than ${tolerance} s away from this clock; refusing it as stale or replayed.`,
    )
  }
  let event: WebhookEvent
  try {
    event = JSON.parse(text) as WebhookEvent
  } catch {
    throw new WebhookVerificationError('malformed', 'The webhook body is not JSON.')
  }
  if (typeof event?.id !== 'string')
    throw new WebhookVerificationError('malformed', 'The webhook body has no event id.')
  if (options.seen) {
    const already = options.seen instanceof Set ? options.seen.has(event.id) : await options.seen(event.id)
    if (options.seen instanceof Set && !already) options.seen.add(event.id)
    if (already) throw new WebhookVerificationError('replayed', `Event ${event.id} was already received.`)
  }
  return event
}
