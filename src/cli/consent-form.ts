// For the demo: answers an emulator's consent page over HTTP as a person in a browser would —
// load the page, submit its plain HTML form with "Approve", and report where it led (the
// out-of-band page's `<code id="authorization_code">`, or a redirect carrying the code).

export interface ConsentAnswer {
  /** The code shown on the out-of-band page. */
  code?: string
  /** Where the browser was sent (a real redirect URI with code and state). */
  location?: string
}

function attribute(tag: string, name: string): string | undefined {
  const value = new RegExp(`${name}\\s*=\\s*"([^"]*)"`, 'i').exec(tag)?.[1]
  return value
    ?.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
    .replaceAll('&quot;', '"')
    .replaceAll('&amp;', '&')
}

export async function approveConsentPage(authorizationUrl: string): Promise<ConsentAnswer> {
  const page = await fetch(authorizationUrl)
  const html = await page.text()
  const form = /<form[^>]*>/i.exec(html)?.[0]
  if (!page.ok || !form) throw new Error(`The consent page did not show a form (HTTP ${page.status}).`)
  const action = new URL(attribute(form, 'action') ?? authorizationUrl, authorizationUrl)
  const fields = new URLSearchParams()
  for (const input of html.match(/<input[^>]*>/gi) ?? []) {
    const name = attribute(input, 'name')
    if (name) fields.append(name, attribute(input, 'value') ?? '')
  }
  fields.append('decision', 'approve')
  const answer = await fetch(action, { method: 'POST', body: fields, redirect: 'manual' })
  const location = answer.headers.get('location')
  if (!location) throw new Error(`Approving did not redirect (HTTP ${answer.status}).`)
  const target = new URL(location, action)
  // Out of band: the platform's own page shows the code to copy.
  const shown = await fetch(target, { redirect: 'manual' })
  if (target.origin === action.origin) {
    const code = /<code id="authorization_code">([^<]+)<\/code>/.exec(await shown.text())?.[1]
    if (!code) throw new Error('The code page showed no code.')
    return { code }
  }
  await shown.body?.cancel()
  return { location: target.href }
}
