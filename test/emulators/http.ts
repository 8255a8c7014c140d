// Small HTTP helpers for the emulator tests: form posts, JSON reads, and a consent-page walker
// that reads the HTML form and submits it as a browser would.
import { OOB_REDIRECT_URI } from '../../src/emulators/index.js'

export interface Answer {
  status: number
  headers: Headers
  body: Record<string, unknown>
  text: string
}

async function read(response: Response): Promise<Answer> {
  const text = await response.text()
  let body: Record<string, unknown> = {}
  try {
    body = JSON.parse(text) as Record<string, unknown>
  } catch {}
  return { status: response.status, headers: response.headers, body, text }
}

export async function postForm(
  url: string,
  params: Record<string, string>,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return read(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params),
    }),
  )
}

export async function postJson(
  url: string,
  body: unknown,
  headers: Record<string, string> = {},
): Promise<Answer> {
  return read(
    await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    }),
  )
}

export async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  return read(await fetch(url, { headers }))
}

export const bearer = (token: unknown) => ({ authorization: `Bearer ${String(token)}` })

export const basic = (id: string, secret: string) => ({
  authorization: `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`,
})

/** The consent form's action and fields (hidden inputs), as a browser would submit them. */
export function readConsentForm(html: string): {
  action: string
  fields: Record<string, string>
  buttons: string[]
} {
  const form = /<form[^>]*action="([^"]+)"[^>]*>([\s\S]*?)<\/form>/.exec(html)
  if (!form?.[1] || form[2] === undefined) throw new Error('no form on the page')
  const fields: Record<string, string> = {}
  for (const input of form[2].matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)) {
    fields[input[1] ?? ''] = unescapeHtml(input[2] ?? '')
  }
  const buttons = [...form[2].matchAll(/<button type="submit" name="decision" value="([^"]+)">/g)].map(
    (m) => m[1] ?? '',
  )
  return { action: form[1], fields, buttons }
}

function unescapeHtml(value: string): string {
  return value.replace(/&#(\d+);/g, (_, code: string) => String.fromCharCode(Number(code)))
}

export function authorizeUrl(base: string, params: Record<string, string>): string {
  const url = new URL(base)
  for (const [key, value] of Object.entries(params)) url.searchParams.set(key, value)
  return url.toString()
}

/**
 * Opens the consent page, submits Approve (or Deny) and returns where the browser is sent.
 * For the out-of-band URI it follows to the code page and returns its HTML too.
 */
export async function consent(
  authorize: string,
  params: Record<string, string>,
  decision: 'approve' | 'deny' = 'approve',
): Promise<{ location: string; page?: string; code?: string }> {
  const page = await fetch(authorizeUrl(authorize, { response_type: 'code', ...params }))
  if (page.status !== 200) throw new Error(`consent page answered ${page.status}: ${await page.text()}`)
  const form = readConsentForm(await page.text())
  const submitted = await fetch(new URL(form.action, authorize), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ ...form.fields, decision }),
    redirect: 'manual',
  })
  if (submitted.status !== 302) return { location: '', page: await submitted.text() }
  const location = submitted.headers.get('location') ?? ''
  if ((params.redirect_uri ?? OOB_REDIRECT_URI) === OOB_REDIRECT_URI && location) {
    const html = await (await fetch(location)).text()
    const code = /<code id="authorization_code">([^<]+)<\/code>/.exec(html)?.[1]
    return { location, page: html, ...(code ? { code } : {}) }
  }
  return { location, code: new URL(location).searchParams.get('code') ?? undefined }
}
