// The dashboard's pictures in headless Chromium (Debian's, via playwright-core): the fleet strip's
// numbers match the store and the audit trail, a connection's page draws the refresh, the failure
// and the reauthorization caused through the emulator as marks on its timeline, the header marks
// the current page, and both pages fit a 375 px wide window. Screenshots go to test-artifacts/.
import { mkdirSync } from 'node:fs'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { launchChromium, runBrowserTests } from '../support/chromium.js'
import { answerConsent } from '../support/consent.js'
import { connectBookingSync, type ServerFixture, startServer } from './support.js'

const PASSWORD = 'correct horse battery staple'
const HOUR = 3_600_000

describe.runIf(runBrowserTests)('the dashboard pictures in a browser', () => {
  let f: ServerFixture
  let browser: Browser
  const cspViolations: string[] = []

  beforeAll(async () => {
    browser = await launchChromium()
    f = await startServer('bookingsync', { adminPassword: PASSWORD })
    await connectBookingSync(f)
    // A refresh: two hours on, the access token has expired.
    f.advance(7200 + 1)
    expect((await f.api('/api/connections/acme-bs%2Fmain/refresh', { method: 'POST' })).status).toBe(200)
    // A reauthorization: the same connection connected again.
    const again = await f.keeper.connect('acme-bs', { name: 'main' })
    if (again.kind !== 'authorize') throw new Error('expected an authorization step')
    await again.complete({ code: (await answerConsent(again.url)).code })
    // A failure: the platform answers 503 to every token request for a while.
    f.advance(7200 + 1)
    f.emulator.configure({ failNextTokenRequests: { count: 50, status: 503, body: 'json' } })
    const failed = await f.api('/api/connections/acme-bs%2Fmain/refresh', { method: 'POST' })
    expect(failed.status).toBeGreaterThanOrEqual(500)
    f.emulator.configure({ failNextTokenRequests: { count: 0, status: 503, body: 'json' } })
    // A second, healthy connection.
    const second = await f.keeper.connect('acme-bs', { name: 'second' })
    if (second.kind !== 'authorize') throw new Error('expected an authorization step')
    await second.complete({ code: (await answerConsent(second.url)).code })
    await f.keeper.audit.flush()
  })

  afterAll(async () => {
    await browser?.close()
    await f?.close()
  })

  async function loggedIn(width: number): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width, height: 900 } })
    const page = await context.newPage()
    page.on('console', (message) => {
      if (/Content Security Policy/i.test(message.text())) cspViolations.push(message.text())
    })
    await page.goto(`${f.baseUrl}/login`)
    await page.fill('#password', PASSWORD)
    await Promise.all([page.waitForURL(`${f.baseUrl}/`), page.click('#login button[type=submit]')])
    return { context, page }
  }

  /** The page body is no wider than the window (a wide table may scroll inside its own box). */
  function overflow(page: Page): Promise<number> {
    // Runs in the page: `globalThis` there is the window (this project's types have no DOM).
    return page.evaluate(() => {
      const root = (
        globalThis as unknown as {
          document: { documentElement: { scrollWidth: number; clientWidth: number } }
        }
      ).document.documentElement
      return root.scrollWidth - root.clientWidth
    })
  }

  it('shows the fleet strip with the counts the store and the audit trail hold', async () => {
    const { context, page } = await loggedIn(1280)
    const connections = await f.keeper.connections()
    expect(connections.map((c) => c.state).sort()).toEqual(['active', 'error'])
    for (const state of ['active', 'error', 'needs_reauth', 'expiring']) {
      const expected = connections.filter((connection) => connection.state === state).length
      expect(await page.getAttribute(`#fleet-state-counts li[data-state="${state}"]`, 'data-count')).toBe(
        String(expected),
      )
    }
    const since = f.now() - 24 * HOUR
    const entries = await f.keeper.audit.list({ since, limit: 1000 })
    const refreshes = entries.filter((e) => e.action === 'token.refreshed' && e.outcome === 'ok').length
    const failures = entries.filter(
      (e) => e.outcome === 'failed' && ['connection.error', 'connection.needs_reauth'].includes(e.action),
    ).length
    expect(refreshes).toBe(1)
    expect(failures).toBeGreaterThanOrEqual(1)
    expect(await page.getAttribute('#fleet-numbers [data-count-of="refreshes"]', 'data-count')).toBe(
      String(refreshes),
    )
    expect(await page.getAttribute('#fleet-numbers [data-count-of="failures"]', 'data-count')).toBe(
      String(failures),
    )
    // Both connections have a refresh (or a retry) due within the day.
    const due = connections.filter((c) => c.refreshDueAt !== null && c.refreshDueAt < f.now() + 24 * HOUR)
    expect(due).toHaveLength(2)
    expect(await page.getAttribute('#fleet-numbers [data-count-of="due"]', 'data-count')).toBe('2')
    // The pictures say the same to a screen reader, and each bar names its hour.
    expect(await page.getAttribute('#fleet-states', 'role')).toBe('img')
    expect(await page.getAttribute('#fleet-states', 'aria-label')).toBe('2 connections: 1 active, 1 error.')
    expect(await page.getAttribute('#fleet-activity', 'aria-label')).toContain(
      `Last 24 hours: 1 refresh, ${failures} failure`,
    )
    expect(await page.locator('#fleet-activity g.hour.past title').count()).toBeGreaterThanOrEqual(1)
    expect(await page.locator('#fleet-activity g.hour.next rect.bar-due').count()).toBeGreaterThanOrEqual(1)
    // The header marks the dashboard as the current page; connection ids link to their pages.
    expect(await page.locator('header.top nav a[aria-current="page"]').textContent()).toBe('Dashboard')
    expect(await page.getAttribute('tr[data-connection="acme-bs/main"] a.connection-link', 'href')).toBe(
      '/connections/acme-bs/main',
    )
    mkdirSync('test-artifacts', { recursive: true })
    await page.screenshot({ path: 'test-artifacts/dashboard-fleet.png', fullPage: true })
    expect(cspViolations).toEqual([])
    await context.close()
  })

  it('draws the refresh, the failure and the reauthorization on the connection page', async () => {
    const { context, page } = await loggedIn(1280)
    await Promise.all([
      page.waitForURL(`${f.baseUrl}/connections/acme-bs/main`),
      page.click('tr[data-connection="acme-bs/main"] a.connection-link'),
    ])
    const timeline = page.locator('svg#refresh-timeline')
    expect(await timeline.getAttribute('role')).toBe('img')
    expect(await timeline.getAttribute('aria-label')).toMatch(
      /1 refresh, \d+ failures?, 2 connects or reauthorizations/,
    )
    expect(await timeline.locator('g.mark-refresh').count()).toBe(1)
    expect(await timeline.locator('g.mark-failure').count()).toBeGreaterThanOrEqual(1)
    expect(await timeline.locator('g.mark-reauth').count()).toBe(2)
    expect(await timeline.locator('g.mark-refresh title').textContent()).toMatch(
      /^Refreshed at \d{4}-.*, by api-key:/,
    )
    expect(await timeline.locator('g.mark-failure title').first().textContent()).toMatch(/^Refresh failed/)
    expect(await timeline.locator('g.mark-reauth title').nth(1).textContent()).toMatch(/^Reauthorized at /)
    // Details without secrets, and the connection's audit entries.
    const facts = (await page.locator('#connection-facts').textContent()) ?? ''
    expect(facts).toContain('BookingSync')
    expect(await page.locator('#connection-state').textContent()).toBe('error')
    const { tokens } = (await f.keeper.store.getConnection('acme-bs/main')) ?? { tokens: null }
    const html = await page.content()
    for (const secret of [tokens?.accessToken, tokens?.refreshToken]) {
      if (secret) expect(html).not.toContain(secret)
    }
    expect(await page.locator('#audit-entries tbody tr').count()).toBeGreaterThanOrEqual(4)
    // The header: dashboard and audit links, this connection marked current.
    const current = page.locator('header.top nav a[aria-current="page"]')
    expect(await current.textContent()).toBe('acme-bs/main')
    expect(await page.locator('header.top nav a[href="/audit"]').count()).toBe(1)
    await page.screenshot({ path: 'test-artifacts/connection-timeline.png', fullPage: true })
    await page.click('header.top nav a[href="/audit"]')
    expect(await page.locator('header.top nav a[aria-current="page"]').textContent()).toBe('Audit trail')
    expect(cspViolations).toEqual([])
    await context.close()
  })

  it('fits a 375 px wide window without JavaScript', async () => {
    const context = await browser.newContext({
      viewport: { width: 375, height: 800 },
      javaScriptEnabled: false,
    })
    const page = await context.newPage()
    await page.goto(`${f.baseUrl}/login`)
    await page.fill('#password', PASSWORD)
    await Promise.all([page.waitForURL(`${f.baseUrl}/`), page.click('#login button[type=submit]')])
    expect(await overflow(page)).toBeLessThanOrEqual(0)
    expect(await page.locator('#fleet-activity').isVisible()).toBe(true)
    await page.screenshot({ path: 'test-artifacts/dashboard-fleet-375.png', fullPage: true })
    await page.goto(`${f.baseUrl}/connections/acme-bs/main`)
    expect(await overflow(page)).toBeLessThanOrEqual(0)
    expect(await page.locator('#refresh-timeline g.mark').count()).toBeGreaterThanOrEqual(4)
    await page.screenshot({ path: 'test-artifacts/connection-timeline-375.png', fullPage: true })
    await page.goto(`${f.baseUrl}/audit`)
    expect(await overflow(page)).toBeLessThanOrEqual(0)
    await context.close()
  })
})
