// `/oauth/authorize`: validates the client and redirect URI before anything else (an unknown
// one gets an error page, never a redirect), then shows a plain HTML Approve/Deny form with the
// request in hidden fields. Approval with the out-of-band URI shows the code Doorkeeper-style
// (`<code id="authorization_code">`); a registered URI gets a redirect with `code` and `state`.
import type { FastifyInstance, FastifyReply } from 'fastify'
import { OOB_REDIRECT_URI } from './clients.js'
import type { EmulatorCore } from './core.js'
import { OAuthError } from './oauth-error.js'
import type { ApprovalRequest, ApprovalResult } from './platform.js'
import { parseScope } from './token-endpoint.js'

export interface AuthorizationPolicy {
  /** Shown on the page: "Authorize … to access your BookingSync account". */
  platformName: string
  /** Scopes granted for the requested ones; throws OAuthError('invalid_scope') to refuse. */
  grantScopes(requested: string[]): string[]
  /** bookingtime, Booking Experts: the organization an approval is for. */
  defaultOrganizationId?: string
  /** Refuses an approval for an organization the emulator does not have. */
  knowsOrganization?(id: string): boolean
}

interface ValidRequest {
  clientId: string
  redirectUri: string
  scope: string[]
  state: string | undefined
  codeChallenge: string | null
  codeChallengeMethod: 'S256' | 'plain' | null
  organizationId: string | null
}

type Validation =
  | { kind: 'ok'; request: ValidRequest }
  | { kind: 'page'; status: number; message: string }
  | { kind: 'redirect'; redirectUri: string; state: string | undefined; error: OAuthError }

const NATIVE_PATH = '/oauth/authorize/native'

function escapeHtml(value: string): string {
  return value.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title></head>
<body>
${body}
</body></html>
`
}

function validate(
  core: EmulatorCore,
  policy: AuthorizationPolicy,
  params: Record<string, string | undefined>,
): Validation {
  const client = core.clients.get(params.client_id)
  if (!client)
    return { kind: 'page', status: 400, message: 'Unknown client_id: this application is not registered.' }
  const redirectUri = params.redirect_uri
  if (!redirectUri) return { kind: 'page', status: 400, message: 'The redirect_uri parameter is missing.' }
  if (!core.clients.isRedirectAllowed(client, redirectUri)) {
    return { kind: 'page', status: 400, message: 'The redirect_uri is not registered for this application.' }
  }
  const state = params.state
  const refuse = (error: OAuthError): Validation => ({ kind: 'redirect', redirectUri, state, error })
  if (params.response_type !== 'code') {
    return refuse(new OAuthError('unsupported_response_type', 'Only response_type=code is supported.'))
  }
  let scope: string[]
  try {
    scope = policy.grantScopes(parseScope(params.scope))
  } catch (error) {
    if (error instanceof OAuthError) return refuse(error)
    throw error
  }
  const method = params.code_challenge_method ?? (params.code_challenge ? 'plain' : undefined)
  if (method !== undefined && method !== 'S256' && method !== 'plain') {
    return refuse(new OAuthError('invalid_request', 'code_challenge_method must be S256 or plain.'))
  }
  if (method !== undefined && !params.code_challenge) {
    return refuse(new OAuthError('invalid_request', 'code_challenge_method was sent without code_challenge.'))
  }
  const organizationId = params.organization_id ?? policy.defaultOrganizationId ?? null
  if (organizationId !== null && policy.knowsOrganization && !policy.knowsOrganization(organizationId)) {
    return refuse(new OAuthError('invalid_request', `There is no organization ${organizationId}.`))
  }
  return {
    kind: 'ok',
    request: {
      clientId: client.id,
      redirectUri,
      scope,
      state,
      codeChallenge: params.code_challenge ?? null,
      codeChallengeMethod: (method as 'S256' | 'plain' | undefined) ?? null,
      organizationId,
    },
  }
}

function redirectWith(redirectUri: string, values: Record<string, string | undefined>): string {
  const url = new URL(redirectUri)
  for (const [key, value] of Object.entries(values)) if (value !== undefined) url.searchParams.set(key, value)
  return url.toString()
}

function issue(core: EmulatorCore, request: ValidRequest): ApprovalResult {
  const record = core.authority.issueCode({
    clientId: request.clientId,
    redirectUri: request.redirectUri,
    scope: request.scope,
    codeChallenge: request.codeChallenge,
    codeChallengeMethod: request.codeChallengeMethod,
    organizationId: request.organizationId,
  })
  const location =
    request.redirectUri === OOB_REDIRECT_URI
      ? `${new URL(core.info.authorizeUrl ?? '/', core.info.adminUrl).origin}${NATIVE_PATH}?code=${encodeURIComponent(record.code)}`
      : redirectWith(request.redirectUri, { code: record.code, state: request.state })
  return { code: record.code, location }
}

function sendErrorPage(reply: FastifyReply, status: number, title: string, message: string): FastifyReply {
  return reply
    .code(status)
    .type('text/html; charset=utf-8')
    .send(page(title, `<h1>${escapeHtml(title)}</h1>\n<p id="error_description">${escapeHtml(message)}</p>`))
}

function sendRefusal(
  reply: FastifyReply,
  redirectUri: string,
  state: string | undefined,
  error: OAuthError,
): FastifyReply {
  if (redirectUri === OOB_REDIRECT_URI) {
    return sendErrorPage(reply, 400, 'An error has occurred', `${error.error}: ${error.description}`)
  }
  return reply.redirect(
    redirectWith(redirectUri, { error: error.error, error_description: error.description, state }),
    302,
  )
}

function consentForm(
  policy: AuthorizationPolicy,
  params: Record<string, string | undefined>,
  scope: string[],
): string {
  const fields = [
    'client_id',
    'redirect_uri',
    'response_type',
    'scope',
    'state',
    'code_challenge',
    'code_challenge_method',
    'organization_id',
    'account_id',
  ]
    .filter((name) => params[name] !== undefined)
    .map((name) => `  <input type="hidden" name="${name}" value="${escapeHtml(params[name] ?? '')}">`)
    .join('\n')
  const scopes = scope.map((s) => `<li>${escapeHtml(s)}</li>`).join('')
  return page(
    'Authorization required',
    `<h1>Authorization required</h1>
<p>Authorize <strong>${escapeHtml(params.client_id ?? '')}</strong> to use your ${escapeHtml(policy.platformName)} account?</p>
<p>This application will be able to:</p>
<ul id="scopes">${scopes}</ul>
<form id="consent" method="post" action="/oauth/authorize">
${fields}
  <button type="submit" name="decision" value="approve">Approve</button>
  <button type="submit" name="decision" value="deny">Deny</button>
</form>`,
  )
}

/** Issues a code as if a person approved (admin `/approve` and `handle.approve()`). */
export function approveDirectly(
  core: EmulatorCore,
  policy: AuthorizationPolicy,
  input: ApprovalRequest = {},
): ApprovalResult {
  const outcome = validate(core, policy, {
    client_id: input.clientId ?? core.defaultClient.id,
    redirect_uri: input.redirectUri ?? OOB_REDIRECT_URI,
    response_type: 'code',
    scope: input.scope,
    state: input.state,
    code_challenge: input.codeChallenge,
    code_challenge_method: input.codeChallengeMethod,
    organization_id: input.organizationId,
  })
  if (outcome.kind === 'page') throw new OAuthError('invalid_request', outcome.message)
  if (outcome.kind === 'redirect') throw outcome.error
  return issue(core, outcome.request)
}

export function registerConsentPage(
  app: FastifyInstance,
  core: EmulatorCore,
  policy: AuthorizationPolicy,
): void {
  app.get('/oauth/authorize', { config: { kind: 'page' } }, async (request, reply) => {
    const params = request.query as Record<string, string | undefined>
    const outcome = validate(core, policy, params)
    if (outcome.kind === 'page')
      return sendErrorPage(reply, outcome.status, 'An error has occurred', outcome.message)
    if (outcome.kind === 'redirect')
      return sendRefusal(reply, outcome.redirectUri, outcome.state, outcome.error)
    if (core.config.autoApprove) return reply.redirect(issue(core, outcome.request).location, 302)
    reply.header('x-frame-options', 'DENY')
    return reply.type('text/html; charset=utf-8').send(consentForm(policy, params, outcome.request.scope))
  })

  app.post('/oauth/authorize', { config: { kind: 'page' } }, async (request, reply) => {
    const params = (request.body ?? {}) as Record<string, string | undefined>
    const outcome = validate(core, policy, params)
    if (outcome.kind === 'page')
      return sendErrorPage(reply, outcome.status, 'An error has occurred', outcome.message)
    if (outcome.kind === 'redirect')
      return sendRefusal(reply, outcome.redirectUri, outcome.state, outcome.error)
    const { redirectUri, state } = outcome.request
    if (params.decision === 'deny') {
      return sendRefusal(
        reply,
        redirectUri,
        state,
        new OAuthError('access_denied', 'The resource owner denied the request.'),
      )
    }
    if (params.decision !== 'approve') {
      return sendErrorPage(reply, 400, 'An error has occurred', 'Choose Approve or Deny.')
    }
    return reply.redirect(issue(core, outcome.request).location, 302)
  })

  app.get(NATIVE_PATH, { config: { kind: 'page' } }, async (request, reply) => {
    const code = (request.query as Record<string, string | undefined>).code ?? ''
    return reply
      .type('text/html; charset=utf-8')
      .send(
        page(
          'Authorization code',
          `<h1>Authorization code:</h1>\n<code id="authorization_code">${escapeHtml(code)}</code>`,
        ),
      )
  })
}
