// Who is acting: `api-key:<id>`, `cli:<os user>`, `worker:<owner>` or `library`. A caller can name
// the actor for everything that happens inside one call (`runAsActor`), so a refresh triggered by
// a token request from the service is recorded under the API key that asked.
import { AsyncLocalStorage } from 'node:async_hooks'
import { userInfo } from 'node:os'

const scope = new AsyncLocalStorage<string>()

/** Runs `body` with `actor` as the actor of every audit entry it causes. */
export function runAsActor<T>(actor: string, body: () => T): T {
  return scope.run(actor, body)
}

/** The actor named by the innermost `runAsActor`, if any. */
export function scopedActor(): string | undefined {
  return scope.getStore()
}

/** `cli:<os user>`, for the command line. */
export function cliActor(): string {
  let user = process.env.USER ?? process.env.USERNAME ?? 'unknown'
  try {
    user = userInfo().username
  } catch {
    // No passwd entry (some containers): the environment's name will do.
  }
  return `cli:${user}`
}

export function apiKeyActor(id: string): string {
  return `api-key:${id}`
}

export function workerActor(owner: string): string {
  return `worker:${owner}`
}
