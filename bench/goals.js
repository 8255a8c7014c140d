// The goal ids of issue 15, in its table's order, with the suite that measures each: run.js
// checks after every run that each goal of the suites it ran is in the table (a missing one is
// a failed row, not a silent gap), `--list` prints them, `--markdown` prints them for README.
export const GOALS = [
  { id: 'scale.real.100000.1w', suite: 'scale-real' },
  { id: 'scale.real.1000000.3w', suite: 'scale-1m' },
  { id: 'scale.linear', suite: 'scale-real' },
  { id: 'herd.eightProcesses.0ms', suite: 'herd' },
  { id: 'api.sqlite.throughput', suite: 'token-api' },
  { id: 'api.postgres.throughput', suite: 'token-api' },
  { id: 'refresh.sqlite', suite: 'refresh' },
  { id: 'refresh.postgres', suite: 'refresh' },
  { id: 'memory.cache.heap', suite: 'memory' },
  { id: 'scale.memory.1w', suite: 'scale-real' },
  { id: 'cli.coldStart', suite: 'cold-start' },
  { id: 'idle.writesPerDay', suite: 'idle-writes' },
]
