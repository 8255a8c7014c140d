// `innkeeper demo`: every emulated platform's flow against in-process emulators and a throwaway
// in-memory store, narrated step by step. What each platform shows (its app, how it connects, one
// API call) is its descriptor's `demo` (src/emulators/<platform>.ts); this file only tells the
// story, then jumps every clock past expiry and shows the refreshes and the rotations.

import {
  appSettingsFor,
  type EmulatedPlatform,
  type EmulatorDemo,
  type EmulatorHandle,
  platformOf,
  startEmulators,
} from '../emulators/index.js'
import { Innkeeper } from '../innkeeper.js'
import { getProvider } from '../providers/registry.js'
import { extractPath } from '../providers/template.js'
import { fingerprint } from '../redact.js'
import { startCallbackServer } from './callback-server.js'
import { approveConsentPage } from './consent-form.js'
import { out, paint } from './output.js'

const title = (text: string) => out(`\n${paint('bold', text)}`)
const step = (text: string) => out(`  ${paint('cyan', '→')} ${text}`)
const show = (label: string, value: unknown) =>
  out(`      ${paint('dim', `${label}:`)} ${Array.isArray(value) ? value.join(', ') : String(value)}`)

async function storedRefreshToken(keeper: Innkeeper, id: string): Promise<string> {
  const token = (await keeper.store.getConnection(id))?.tokens?.refreshToken
  return token ? fingerprint(token) : '(none)'
}

async function addApp(
  keeper: Innkeeper,
  platform: EmulatedPlatform,
  handle: EmulatorHandle,
  demo: EmulatorDemo,
  redirectUri?: string,
) {
  await keeper.apps.add(demo.app, {
    provider: platform.name,
    ...appSettingsFor(handle.info),
    ...(demo.scopes ? { scopes: demo.scopes } : {}),
    ...(redirectUri ? { redirectUri } : {}),
  })
  const base = handle.info.baseUrl ? ` --base-url ${handle.info.baseUrl}` : ''
  const scope = demo.scopes ? ` --scope "${demo.scopes.join(' ')}"` : ''
  const redirect = redirectUri ? ` --redirect-uri ${redirectUri}` : ''
  step(
    `innkeeper apps add ${demo.app} --provider ${platform.name} --client-id … --client-secret-stdin${base}${scope}${redirect}`,
  )
}

/** A person approves on the consent page, which shows a code they paste into the terminal. */
async function connectOutOfBand(keeper: Innkeeper, demo: EmulatorDemo): Promise<void> {
  const start = await keeper.authorize(demo.app)
  step(`innkeeper connect ${demo.app}  → visit ${start.url.slice(0, 72)}…`)
  const { code } = await approveConsentPage(start.url)
  step(
    `approved the consent form; the page shows the code ${fingerprint(code ?? '')}, pasted into the terminal`,
  )
  await start.complete(code ?? '')
}

/** A person approves and the platform redirects the browser back to a loopback callback. */
async function connectWithRedirect(
  keeper: Innkeeper,
  platform: EmulatedPlatform,
  handle: EmulatorHandle,
  demo: EmulatorDemo,
): Promise<void> {
  let state = ''
  const server = await startCallbackServer(0, demo.callbackPath ?? '/callback', async (url) => {
    const info = await keeper.completeAuthorization(url, state)
    return `Connected ${info.id}.`
  })
  try {
    await addApp(keeper, platform, handle, demo, server.redirectUri)
    const start = await keeper.authorize(demo.app)
    state = start.state
    step(`innkeeper connect ${demo.app} --listen  → the browser approves, the platform redirects back`)
    await approveConsentPage(start.url)
    show('callback', await server.result)
  } finally {
    await server.close()
  }
}

/** No person: the app's own credentials (and the connect options the provider takes). */
async function connectDirectly(
  keeper: Innkeeper,
  platform: EmulatedPlatform,
  demo: EmulatorDemo,
): Promise<void> {
  const options = demo.connectOptions ?? {}
  await keeper.connect(demo.app, options)
  const flags = getProvider(platform.name)
    .connectOptions.filter((option) => options[option.name] !== undefined)
    .map((option) => ` --${option.flag ?? option.name} ${options[option.name]}`)
  step(`innkeeper connect ${demo.app}${flags.join('')}`)
}

async function tour(keeper: Innkeeper, handle: EmulatorHandle): Promise<string> {
  const platform = platformOf(handle)
  const demo = platform.demo(handle.info)
  const id = `${demo.app}/main`
  title(`${platform.label} — ${demo.flow}`)
  if (demo.connect === 'redirect') await connectWithRedirect(keeper, platform, handle, demo)
  else await addApp(keeper, platform, handle, demo)
  if (demo.connect === 'out-of-band') await connectOutOfBand(keeper, demo)
  if (demo.connect === 'direct') await connectDirectly(keeper, platform, demo)
  const info = await keeper.connection(id).info()
  show('connected', info.id)
  if (info.scopes.length > 0) show('scopes', info.scopes)
  const requests = Object.entries(handle.stats().tokenRequests)
    .filter(([grant]) => grant !== 'total')
    .map(([grant, count]) => `${grant} × ${count}`)
  show('token requests', requests)
  if (info.accessTokenExpiresAt)
    show('access token valid until', new Date(info.accessTokenExpiresAt).toISOString())
  for (const key of demo.metadata ?? []) show(key, info.metadata[key])
  if (demo.request) {
    const { method = 'GET', path, params, json, label, pick } = demo.request
    const answer = await keeper
      .connection(id)
      .json(path, { method, ...(params ? { params } : {}), ...(json ? { json } : {}) })
    const flags = [
      ...Object.entries(params ?? {}).map(([name, value]) => ` --param ${name}=${value}`),
      ...(json ? [` --data '${JSON.stringify(json)}'`] : []),
    ]
    step(`innkeeper request ${id} ${method} '${path}'${flags.join('')}`)
    show(label, extractPath(answer, pick))
  }
  return id
}

async function expiry(
  keeper: Innkeeper,
  ids: Map<EmulatorHandle, string>,
  advance: (seconds: number) => void,
) {
  title('Time passes — every access token expires')
  const rotating = [...ids].filter(([handle]) => getProvider(handle.platform).refresh.rotates)
  const before = new Map(
    await Promise.all(rotating.map(async ([, id]) => [id, await storedRefreshToken(keeper, id)] as const)),
  )
  // Past the longest access token (Booking Experts: 7 days), inside the shortest refresh token (bookingtime: 30 days).
  advance(8 * 86_400)
  step('moved every clock forward 8 days')
  for (const id of ids.values()) {
    const old = (await keeper.connection(id).info()).accessTokenExpiresAt
    await keeper.connection(id).accessToken()
    const now = (await keeper.connection(id).info()).accessTokenExpiresAt
    const renewed = old !== null && now !== null && now > old
    step(
      `innkeeper token ${id}  → ${renewed ? `renewed, valid until ${new Date(now).toISOString()}` : 'still valid'}`,
    )
  }
  for (const [handle, id] of rotating) {
    show(
      `${platformOf(handle).label} refresh token rotated`,
      `${before.get(id)} → ${await storedRefreshToken(keeper, id)}`,
    )
  }
}

export async function runDemo(): Promise<void> {
  const started = Date.now()
  const handles = await startEmulators(['all'])
  let offset = 0
  // The demo owns its clock so it can jump past expiry together with the emulators.
  const keeper = await Innkeeper.open({ store: 'memory:', keys: '', now: () => Date.now() + offset })
  try {
    out(paint('bold', 'Innkeeper demo: every platform, against local emulators, in a throwaway store.'))
    const ids = new Map<EmulatorHandle, string>()
    for (const handle of handles) ids.set(handle, await tour(keeper, handle))
    await expiry(keeper, ids, (seconds) => {
      offset += seconds * 1000
      for (const handle of handles) handle.advance(seconds)
    })
    title(`Done in ${((Date.now() - started) / 1000).toFixed(1)} s. Next: docs/platforms/<platform>.md`)
  } finally {
    await keeper.close()
    await Promise.all(handles.map((handle) => handle.close()))
  }
}
