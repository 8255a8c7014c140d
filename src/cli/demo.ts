// `innkeeper demo`: every platform's full flow against in-process emulators and a throwaway
// in-memory store, narrated step by step: BookingSync/Smily out of band, Booking Experts through a
// loopback redirect, bookingtime's two-step client credentials, BookyFlow's channel announce, and
// finally a refresh with rotation after the clocks jump past expiry.

import {
  appSettingsFor,
  type EmulatorHandle,
  type EmulatorPlatform,
  startEmulators,
} from '../emulators/index.js'
import { Innkeeper } from '../innkeeper.js'
import { fingerprint } from '../redact.js'
import { startCallbackServer } from './callback-server.js'
import { approveConsentPage } from './consent-form.js'
import { out, paint } from './output.js'

type Emulators = Record<EmulatorPlatform, EmulatorHandle>

const title = (text: string) => out(`\n${paint('bold', text)}`)
const step = (text: string) => out(`  ${paint('cyan', '→')} ${text}`)
const show = (label: string, value: unknown) =>
  out(`      ${paint('dim', `${label}:`)} ${Array.isArray(value) ? value.join(', ') : String(value)}`)

async function storedRefreshToken(keeper: Innkeeper, id: string): Promise<string> {
  const token = (await keeper.store.getConnection(id))?.tokens?.refreshToken
  return token ? fingerprint(token) : '(none)'
}

async function smily(keeper: Innkeeper, emulator: EmulatorHandle): Promise<void> {
  title('BookingSync / Smily — authorization code, out of band')
  await keeper.apps.add('smily', {
    provider: 'smily',
    ...appSettingsFor(emulator.info),
    scopes: ['public', 'rentals_read'],
  })
  step(
    'innkeeper apps add smily --provider smily --client-id … --client-secret-stdin --scope "public rentals_read"',
  )
  const start = await keeper.authorize('smily')
  step(`innkeeper connect smily  → visit ${start.url.slice(0, 72)}…`)
  const { code } = await approveConsentPage(start.url)
  step(
    `approved the consent form; the page shows the code ${fingerprint(code ?? '')}, pasted into the terminal`,
  )
  const connection = await start.complete(code ?? '')
  show('connected', connection.id)
  show('scopes', connection.scopes)
  const rentals = await keeper.connection('smily/main').json<{ rentals: { name: string }[] }>('/rentals')
  step('innkeeper request smily/main GET /rentals')
  show(
    'rentals',
    rentals.rentals.map((rental) => rental.name),
  )
}

async function bookingExperts(keeper: Innkeeper, emulator: EmulatorHandle): Promise<void> {
  title('Booking Experts — authorization code with a redirect to a loopback callback')
  let state = ''
  const server = await startCallbackServer(0, '/booking_experts/oauth_callback', async (url) => {
    const info = await keeper.completeAuthorization(url, state)
    return `Connected ${info.id}.`
  })
  try {
    await keeper.apps.add('experts', {
      provider: 'bookingexperts',
      ...appSettingsFor(emulator.info),
      redirectUri: server.redirectUri,
    })
    step(`innkeeper apps add experts --provider bookingexperts … --redirect-uri ${server.redirectUri}`)
    const start = await keeper.authorize('experts')
    state = start.state
    step('innkeeper connect experts --listen  → the browser approves, the platform redirects back')
    await approveConsentPage(start.url)
    show('callback', await server.result)
  } finally {
    await server.close()
  }
  const info = await keeper.connection('experts/main').info()
  step('after install Innkeeper fetched /v3/subscription and kept it:')
  show('subscriptionId', info.metadata.subscriptionId)
  show('administrationIds', info.metadata.administrationIds)
}

async function bookingtime(keeper: Innkeeper, emulator: EmulatorHandle): Promise<void> {
  title('bookingtime — client credentials, then an organization token (two steps)')
  await keeper.apps.add('bt', { provider: 'bookingtime', ...appSettingsFor(emulator.info) })
  step('innkeeper apps add bt --provider bookingtime --client-id … --client-secret-stdin')
  const organizationId = emulator.info.organizationId ?? ''
  const result = await keeper.connect('bt', { organizationId })
  step(`innkeeper connect bt --organization ${organizationId}`)
  const stats = emulator.stats().tokenRequests
  show(
    'steps',
    `client_credentials → a 30-day refresh token (${stats.client_credentials ?? 0}), refresh_token + organization_id → a 5-minute access token (${stats.refresh_token ?? 0})`,
  )
  if (result.kind === 'connected')
    show('access token valid until', new Date(result.connection.accessTokenExpiresAt ?? 0).toISOString())
  const organization = await keeper
    .connection('bt/main')
    .json<{ name?: string; id: string }>('/de/organization/{organizationId}/show', {
      params: { organizationId },
    })
  step(
    `innkeeper request bt/main GET '/de/organization/{organizationId}/show' --param organizationId=${organizationId}`,
  )
  show('organization', organization.name ?? organization.id)
}

async function bookyflow(keeper: Innkeeper, emulator: EmulatorHandle): Promise<void> {
  title('BookyFlow — client credentials on a self-hosted installation, with a channel')
  await keeper.apps.add('bf', {
    provider: 'bookyflow',
    ...appSettingsFor(emulator.info),
    scopes: ['read', 'write'],
  })
  step(
    `innkeeper apps add bf --provider bookyflow --base-url ${emulator.info.baseUrl} --scope "read write" …`,
  )
  const result = await keeper.connect('bf', { channel: 'innkeeper-demo' })
  step('innkeeper connect bf --channel innkeeper-demo  → token, then POST /cmf/announce')
  if (result.kind === 'connected') show('channel', result.connection.metadata.channel)
  const conn = keeper.connection('bf/main')
  const created = await conn.json<{ data: { uid: string; name: string } }>('/cmf/properties', {
    method: 'POST',
    json: { name: 'Sea view apartment' },
  })
  step('innkeeper request bf/main POST /cmf/properties --data \'{"name":"Sea view apartment"}\'')
  const fetched = await conn.json<{ data: { name: string } }>('/cmf/properties/@uid', {
    params: { uid: created.data.uid },
  })
  step(`innkeeper request bf/main GET /cmf/properties/@uid --param uid=${created.data.uid}`)
  show('property (sent with X-BOOKYFLOW-channel-name)', fetched.data.name)
}

async function expiry(keeper: Innkeeper, emulators: Emulators, advance: (seconds: number) => void) {
  title('Time passes — every access token expires')
  const before = await storedRefreshToken(keeper, 'smily/main')
  const beforeExperts = await storedRefreshToken(keeper, 'experts/main')
  // Past Booking Experts' 7-day tokens, well inside bookingtime's 30-day refresh token.
  advance(8 * 86_400)
  step('moved every clock forward 8 days')
  for (const id of ['smily/main', 'experts/main', 'bt/main', 'bf/main']) {
    const old = (await keeper.connection(id).info()).accessTokenExpiresAt
    await keeper.connection(id).accessToken()
    const now = (await keeper.connection(id).info()).accessTokenExpiresAt
    const renewed = old !== null && now !== null && now > old
    step(
      `innkeeper token ${id}  → ${renewed ? `renewed, valid until ${new Date(now).toISOString()}` : 'still valid'}`,
    )
  }
  show('BookingSync refresh token rotated', `${before} → ${await storedRefreshToken(keeper, 'smily/main')}`)
  show(
    'Booking Experts refresh token rotated',
    `${beforeExperts} → ${await storedRefreshToken(keeper, 'experts/main')}`,
  )
  show('BookingSync refresh requests', emulators.bookingsync.stats().tokenRequests.refresh_token ?? 0)
}

export async function runDemo(): Promise<void> {
  const started = Date.now()
  const handles = await startEmulators(['all'])
  const emulators = Object.fromEntries(handles.map((handle) => [handle.platform, handle])) as Emulators
  let offset = 0
  // The demo owns its clock so it can jump past expiry together with the emulators.
  const keeper = await Innkeeper.open({ store: 'memory:', keys: '', now: () => Date.now() + offset })
  try {
    out(paint('bold', 'Innkeeper demo: every platform, against local emulators, in a throwaway store.'))
    await smily(keeper, emulators.bookingsync)
    await bookingExperts(keeper, emulators.bookingexperts)
    await bookingtime(keeper, emulators.bookingtime)
    await bookyflow(keeper, emulators.bookyflow)
    await expiry(keeper, emulators, (seconds) => {
      offset += seconds * 1000
      for (const handle of handles) handle.advance(seconds)
    })
    title(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s. Next: docs/platforms/<platform>.md`)
  } finally {
    await keeper.close()
    await Promise.all(handles.map((handle) => handle.close()))
  }
}
