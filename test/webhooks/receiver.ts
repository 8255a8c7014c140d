// A webhook receiver for the tests: a loopback `node:http` server that records every delivery
// (raw body and signature header) and answers with the statuses a test scripts (default 200).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'

export interface ReceivedDelivery {
  body: string
  signature: string | undefined
  status: number
}

export interface TestReceiver {
  url: string
  deliveries: ReceivedDelivery[]
  /** Statuses for the next requests, in order; 0 means "never answer" (hold the request open). */
  script: number[]
  /** Resolves when `count` deliveries answered 2xx have arrived. */
  waitForAccepted(count: number, timeoutMs?: number): Promise<ReceivedDelivery[]>
  onRequest?: (delivery: ReceivedDelivery) => void
  close(): Promise<void>
}

export async function startReceiver(): Promise<TestReceiver> {
  const held: ServerResponse[] = []
  const receiver: TestReceiver = {
    url: '',
    deliveries: [],
    script: [],
    async waitForAccepted(count, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs
      for (;;) {
        const accepted = receiver.deliveries.filter((d) => d.status >= 200 && d.status < 300)
        if (accepted.length >= count) return accepted
        if (Date.now() > deadline)
          throw new Error(
            `only ${accepted.length} of ${count} deliveries accepted (${receiver.deliveries.length} seen)`,
          )
        await new Promise((resolve) => setTimeout(resolve, 20))
      }
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const response of held) response.destroy()
        server.closeAllConnections()
        server.close(() => resolve())
      }),
  }
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const status = receiver.script.length > 0 ? receiver.script.shift()! : 200
      const delivery = {
        body: Buffer.concat(chunks).toString('utf8'),
        signature: request.headers['innkeeper-signature'] as string | undefined,
        status,
      }
      receiver.deliveries.push(delivery)
      receiver.onRequest?.(delivery)
      if (status === 0) {
        held.push(response)
        return
      }
      response.writeHead(status).end()
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`
  return receiver
}
