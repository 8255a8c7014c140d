// The command that connects a connection again the way it was made: its name, its grant when
// that is not the provider's default (bookingtime's user authentication), and the connect
// options it was made with (`--organization`), so a person is not sent down another grant.
import type { ProviderDefinition } from '../providers/schema.js'

export interface ReconnectTarget {
  app: string
  name: string
  metadata: Record<string, unknown>
}

function shellWord(value: string): string {
  return /^[A-Za-z0-9._:/@%+=-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`
}

export function reconnectCommand(target: ReconnectTarget, provider?: ProviderDefinition): string {
  const words = ['innkeeper', 'connect', target.app]
  words.push('--name', target.name)
  const grant = target.metadata.grant
  if (provider && typeof grant === 'string' && grant !== provider.connect) words.push('--grant', grant)
  for (const option of provider?.connectOptions ?? []) {
    const value = target.metadata[option.name]
    if (typeof value === 'string' || typeof value === 'number') words.push(`--${option.flag}`, String(value))
  }
  return words.map(shellWord).join(' ')
}
