// A BookingSync emulator in its own process (forked with IPC by bench/lib/world.js), so the
// benchmarked client never shares an event loop with the server it calls. Answers IPC
// messages { id, cmd: 'approve' | 'stats' | 'configure', arg } with { id, result | error }.
import { startEmulator } from '../../dist/emulators/index.js'

const config = JSON.parse(process.env.EMULATOR_CONFIG ?? '{}')
const emulator = await startEmulator('bookingsync', { config })

/** The counters the benchmarks check, without the per-token maps (large at 100k connections). */
function counts(stats) {
  return {
    tokenRequests: stats.tokenRequests,
    tokensIssued: stats.tokensIssued,
    tokenErrors: stats.tokenErrors,
    reuseDetected: stats.reuseDetected,
    maxUsesOfOneRefreshToken: stats.maxUsesOfOneRefreshToken,
    peakConcurrentTokenRequests: stats.peakConcurrentTokenRequests,
    overRateLimit: stats.overRateLimit,
    apiRequests: stats.apiRequests,
  }
}

process.on('message', async (message) => {
  try {
    let result
    if (message.cmd === 'approve') result = emulator.approve(message.arg)
    else if (message.cmd === 'stats') result = counts(emulator.stats())
    else if (message.cmd === 'configure') result = emulator.configure(message.arg)
    else throw new Error(`unknown command ${message.cmd}`)
    process.send({ id: message.id, result })
  } catch (error) {
    process.send({ id: message.id, error: String(error?.message ?? error) })
  }
})
process.on('disconnect', async () => {
  await emulator.close()
  process.exit(0)
})
process.send({ ready: true, info: emulator.info })
