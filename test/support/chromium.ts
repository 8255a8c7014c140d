// Headless Chromium for the browser tests (Debian's, driven by playwright-core): one launcher and
// one rule for a missing browser — the tests are skipped with a loud note, and fail under CI=true.
import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

const CHROMIUM = process.env.INNKEEPER_TEST_CHROMIUM ?? '/usr/bin/chromium'
const IS_CI = ['1', 'true', 'yes'].includes(String(process.env.CI ?? '').toLowerCase())
const haveBrowser = existsSync(CHROMIUM)

/** Whether a browser test file runs: when Chromium is installed, and always under CI (to fail there). */
export const runBrowserTests = haveBrowser || IS_CI

if (!runBrowserTests) {
  process.stderr.write(
    `\n!!!!!!!!!! SKIPPING browser tests: ${CHROMIUM} is missing !!!!!!!!!!\nInstall it with: apt-get install -y chromium\nUnder CI=true these tests fail instead of skipping.\n\n`,
  )
}

export async function launchChromium(): Promise<Browser> {
  if (!haveBrowser)
    throw new Error(`CI=true and ${CHROMIUM} is missing: install it with apt-get install -y chromium`)
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  })
}
