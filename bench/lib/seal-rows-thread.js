// A worker thread of bench/lib/bulk-seed.js: turns ranges of clone numbers into lines of COPY
// text for innkeeper_connections, each row encoded by the store's own codec and sealed under its
// own id (AES-GCM per row is what bounds seeding speed, so it runs on every core).
// workerData: { keys, template, prefix, fleet }; messages { id, start, end } → { id, text }.
import { parentPort, workerData } from 'node:worker_threads'
import { Keyring, parseKeysVariable } from '../../dist/crypto/index.js'
import { encodeConnection } from '../../dist/stores/index.js'
import { cloneName, cloneTimes, copyLine } from './clone-rows.js'

const { keys, template, prefix, fleet } = workerData
const keyring = new Keyring(parseKeysVariable(keys))

parentPort.on('message', ({ id, start, end }) => {
  const lines = []
  for (let i = start; i < end; i++) {
    const name = cloneName(prefix, i)
    const { obtainedAt, expiresAt, dueAt } = cloneTimes(fleet, i)
    const encoded = encodeConnection(keyring, {
      ...template,
      id: `${template.app}/${name}`,
      name,
      tokens: { ...template.tokens, obtainedAt, expiresAt },
      refreshDueAt: dueAt,
      createdAt: obtainedAt,
      updatedAt: obtainedAt,
      // No lastRefreshAt: a row that has one was refreshed by a worker during the run.
      lastRefreshAt: undefined,
      version: 1,
    })
    lines.push(copyLine(encoded))
  }
  parentPort.postMessage({ id, text: `${lines.join('\n')}\n` })
})
