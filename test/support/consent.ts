// Approves (or denies) an emulator's consent page over HTTP, as a person in a browser would:
// load the authorization URL, read the form, submit it, and report where it led.

export interface ConsentOutcome {
  /** The code shown on the out-of-band page, or carried by the redirect. */
  code?: string
  /** The redirect target (with code/state or error), when the redirect URI is a real URL. */
  location?: string
  state?: string
  error?: string
}

function attribute(tag: string, name: string): string | undefined {
  const match = new RegExp(`${name}\\s*=\\s*"([^"]*)"`, 'i').exec(tag)
  return match?.[1]?.replaceAll('&amp;', '&').replaceAll('&quot;', '"').replaceAll('&#39;', "'")
}

export async function answerConsent(
  authorizationUrl: string,
  decision: 'approve' | 'deny' = 'approve',
): Promise<ConsentOutcome> {
  const page = await fetch(authorizationUrl)
  const html = await page.text()
  if (!page.ok) throw new Error(`consent page answered ${page.status}: ${html.slice(0, 200)}`)
  const form = /<form[^>]*>/i.exec(html)?.[0]
  if (!form) throw new Error('no consent form on the page')
  const action = new URL(attribute(form, 'action') ?? authorizationUrl, authorizationUrl)
  const fields = new URLSearchParams()
  for (const input of html.match(/<input[^>]*>/gi) ?? []) {
    const name = attribute(input, 'name')
    if (name && /type\s*=\s*"hidden"/i.test(input)) fields.append(name, attribute(input, 'value') ?? '')
  }
  const button = (html.match(/<button[^>]*>/gi) ?? []).find(
    (tag) => attribute(tag, 'value') === decision || attribute(tag, 'value')?.startsWith(decision),
  )
  if (button) fields.append(attribute(button, 'name') ?? 'decision', attribute(button, 'value') ?? decision)
  else fields.append('decision', decision)
  const answer = await fetch(action, {
    method: (attribute(form, 'method') ?? 'POST').toUpperCase(),
    body: fields,
    redirect: 'manual',
  })
  const location = answer.headers.get('location') ?? undefined
  if (location) {
    const target = new URL(location, action)
    return {
      location: target.href,
      code: target.searchParams.get('code') ?? undefined,
      state: target.searchParams.get('state') ?? undefined,
      error: target.searchParams.get('error') ?? undefined,
    }
  }
  const body = await answer.text()
  const code = /<code id="authorization_code">([^<]+)<\/code>/.exec(body)?.[1]
  return { code }
}
