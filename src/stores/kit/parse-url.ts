// The first step of reading a server store's URL, once for every driver: parse it and check
// its scheme, with a message that shows how the URL is written. What each driver then reads
// from the query string stays in its own url.ts.

import { StoreError } from '../../errors.js'

export interface StoreUrlShape {
  /** The store's name in messages ("PostgreSQL"). */
  name: string
  /** Accepted schemes, with their colon ("postgres:"); the first is the one messages show. */
  protocols: readonly string[]
  /** A complete example URL, for the message when the text is not a URL at all. */
  example: string
}

/** `url` parsed, or a StoreError invalid_config that says how to write it. */
export function parseStoreUrl(url: string, shape: StoreUrlShape): URL {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    throw new StoreError(
      'invalid_config',
      `The ${shape.name} store URL is not a valid URL; write it as ${shape.example}.`,
    )
  }
  if (!shape.protocols.includes(parsed.protocol)) {
    const accepted = shape.protocols.map((protocol) => `${protocol}//`).join(' or ')
    throw new StoreError(
      'invalid_config',
      `A ${shape.name} store URL starts with ${accepted}, not ${parsed.protocol}//.`,
    )
  }
  return parsed
}
