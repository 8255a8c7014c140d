// Runs a provider's post-connect steps with the new token: Booking Experts' `/v3/subscription`
// (subscription id, administration ids, return URL), BookyFlow's channel announce. What a step
// extracts or saves becomes public connection metadata. Steps marked `afterEveryToken` run
// again with every renewed access token (`rerunStepsForNewToken`).
import { InnkeeperError } from '../errors.js'
import { authenticatedFetch, readJson } from '../http/client.js'
import type { PostConnectStep } from '../providers/schema.js'
import { extractPath, fillBody, fillTemplate, fillTemplates } from '../providers/template.js'
import type { ResolvedApp } from './context.js'

export function runPostConnectSteps(
  app: ResolvedApp,
  accessToken: string,
  metadata: Record<string, unknown>,
  options: Record<string, unknown>,
  now: () => number,
): Promise<Record<string, unknown>> {
  return runSteps(app, app.provider.postConnect, accessToken, metadata, options, now)
}

/**
 * Runs the steps marked `afterEveryToken` with a renewed access token. The connect options they
 * need (BookyFlow's channel) were saved in the connection's metadata when it was made.
 */
export function rerunStepsForNewToken(
  app: ResolvedApp,
  accessToken: string,
  metadata: Record<string, unknown>,
  now: () => number,
): Promise<Record<string, unknown>> {
  const steps = app.provider.postConnect.filter((step) => step.afterEveryToken)
  if (steps.length === 0) return Promise.resolve(metadata)
  const options: Record<string, unknown> = {}
  for (const option of app.provider.connectOptions) {
    if (metadata[option.name] !== undefined) options[option.name] = metadata[option.name]
  }
  return runSteps(app, steps, accessToken, metadata, options, now)
}

async function runSteps(
  app: ResolvedApp,
  steps: readonly PostConnectStep[],
  accessToken: string,
  metadata: Record<string, unknown>,
  options: Record<string, unknown>,
  now: () => number,
): Promise<Record<string, unknown>> {
  const result = { ...metadata }
  for (const step of steps) {
    if (step.when && (options[step.when] === undefined || options[step.when] === '')) continue
    // What the step saves is not true until it succeeds: no header may claim it yet (BookyFlow's
    // announce must not send the channel header of the channel it is announcing).
    const before = Object.fromEntries(Object.entries(result).filter(([key]) => !(key in step.save)))
    const context = { app: app.templateApp, metadata: before, options }
    const path = fillTemplate(step.path, context)
    if (!path)
      throw new InnkeeperError(
        'invalid_config',
        `The ${step.name} step of ${app.provider.displayName} is missing a value for ${step.path}.`,
      )
    const target = {
      providerName: app.provider.displayName,
      apiUrl: app.endpoints.apiUrl,
      allowedOrigins: app.endpoints.apiOrigins,
      placeholderStyle: app.provider.api.placeholderStyle,
      headers: fillTemplates(app.provider.api.headers, context),
      accessToken: async () => accessToken,
      renewAfterRejection: async () => {
        throw new InnkeeperError(
          'invalid_token',
          `${app.provider.displayName} refused the new access token during ${step.name}.`,
        )
      },
      now,
      maxRetryAfterMs: 10_000,
      timeoutMs: app.limits.timeoutMs,
      maxResponseBytes: app.limits.maxResponseBytes,
      sleep: (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)),
    }
    const response = await authenticatedFetch(target, path, {
      method: step.method,
      json: step.body ? fillBody(step.body, context) : undefined,
    })
    const answer = await readJson<unknown>(
      response,
      target,
      step.method,
      response.url || `${app.endpoints.apiUrl}${path}`,
    )
    for (const [key, sourcePath] of Object.entries(step.extract)) {
      const value = extractPath(answer, sourcePath)
      if (value !== undefined) result[key] = value
    }
    for (const [key, template] of Object.entries(step.save)) {
      const value = fillTemplate(template, context)
      if (value !== undefined) result[key] = value
    }
  }
  return result
}
