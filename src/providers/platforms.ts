// The built-in providers, one module each: the list the built-in catalogue starts from. A new
// platform adds its definition here (an import and an entry); the definition itself is
// `src/providers/<platform>.ts`.
import { bookingexperts } from './bookingexperts.js'
import { bookingsync } from './bookingsync.js'
import { bookingtime } from './bookingtime.js'
import { bookyflow } from './bookyflow.js'
import { oauth2 } from './oauth2.js'
import type { ProviderDefinition } from './schema.js'

export const builtInProviders: readonly ProviderDefinition[] = [
  bookingsync,
  bookingexperts,
  bookingtime,
  bookyflow,
  oauth2,
]
