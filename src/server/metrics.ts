// Prometheus text metrics: counters fed by the keeper's events and the token route, and the
// connections-by-state gauge computed from the store at scrape time.
import type { ConnectionInfo, Innkeeper } from '../index.js'

const STATES = ['active', 'expiring', 'refreshing', 'needs_reauth', 'error', 'revoked'] as const

function label(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

export class ServerMetrics {
  refreshes = 0
  readonly refreshFailures = new Map<string, number>()
  tokensServed = 0
  proxiedRequests = 0
  private readonly detach: () => void

  constructor(private readonly keeper: Innkeeper) {
    const onRefreshed = () => {
      this.refreshes += 1
    }
    const onFailure = (info: ConnectionInfo) => {
      const code = info.lastError?.code ?? 'unknown'
      this.refreshFailures.set(code, (this.refreshFailures.get(code) ?? 0) + 1)
    }
    keeper.on('refreshed', onRefreshed)
    keeper.on('error', onFailure)
    keeper.on('needs_reauth', onFailure)
    this.detach = () => {
      keeper.off('refreshed', onRefreshed)
      keeper.off('error', onFailure)
      keeper.off('needs_reauth', onFailure)
    }
  }

  close(): void {
    this.detach()
  }

  async render(): Promise<string> {
    const byState = new Map<string, number>(STATES.map((state) => [state, 0]))
    for (const connection of await this.keeper.connections()) {
      byState.set(connection.state, (byState.get(connection.state) ?? 0) + 1)
    }
    const lines = [
      '# HELP innkeeper_refreshes_total Access tokens renewed by this process.',
      '# TYPE innkeeper_refreshes_total counter',
      `innkeeper_refreshes_total ${this.refreshes}`,
      '# HELP innkeeper_refresh_failures_total Failed renewals by error code.',
      '# TYPE innkeeper_refresh_failures_total counter',
      ...[...this.refreshFailures].map(
        ([code, count]) => `innkeeper_refresh_failures_total{code="${label(code)}"} ${count}`,
      ),
      '# HELP innkeeper_tokens_served_total Access tokens handed out by the token API.',
      '# TYPE innkeeper_tokens_served_total counter',
      `innkeeper_tokens_served_total ${this.tokensServed}`,
      '# HELP innkeeper_proxy_requests_total Requests forwarded to platforms by the proxy.',
      '# TYPE innkeeper_proxy_requests_total counter',
      `innkeeper_proxy_requests_total ${this.proxiedRequests}`,
      '# HELP innkeeper_connections Connections by state, read from the store at scrape time.',
      '# TYPE innkeeper_connections gauge',
      ...[...byState].map(([state, count]) => `innkeeper_connections{state="${label(state)}"} ${count}`),
    ]
    return `${lines.join('\n')}\n`
  }
}
