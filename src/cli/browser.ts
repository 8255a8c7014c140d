// Opens a URL in the person's browser, only when there is one to open: a terminal on stderr and a
// display (or macOS). Never in tests or CI, where the URL on stdout is the interface.
import { spawn } from 'node:child_process'

export function canOpenBrowser(env = process.env): boolean {
  if (!process.stderr.isTTY || env.CI || env.INNKEEPER_NO_BROWSER) return false
  if (process.platform === 'darwin' || process.platform === 'win32') return true
  return Boolean(env.DISPLAY || env.WAYLAND_DISPLAY)
}

/** Best effort: failing to open a browser is not an error, the URL was printed anyway. */
export function openBrowser(url: string): boolean {
  if (!canOpenBrowser()) return false
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? ['cmd', ['/c', 'start', '""', url]]
        : ['xdg-open', [url]]
  try {
    const child = spawn(command, args, { stdio: 'ignore', detached: true })
    child.on('error', () => {})
    child.unref()
    return true
  } catch {
    return false
  }
}
