// Drives Debian's Chromium (headless, fresh profile) with playwright-core through the conductor's
// dashboard, step by step as the Python test says on stdin (one JSON object a line); reports each
// step as one JSON line on stdout and saves screenshots.
// CHROMIUM: the browser; PROFILE_DIR: an empty directory; URL: the dashboard; SHOTS: where screenshots go.
const { chromium } = require('playwright-core')
const readline = require('readline')

const out = obj => process.stdout.write(JSON.stringify(obj) + '\n')

async function main () {
  const context = await chromium.launchPersistentContext(process.env.PROFILE_DIR, {
    executablePath: process.env.CHROMIUM,
    headless: true,
    viewport: { width: 1440, height: 960 },
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  })
  const page = await context.newPage()
  const problems = []
  page.on('console', msg => { if (msg.type() === 'error') problems.push(msg.text()) })
  page.on('pageerror', err => problems.push(String(err)))
  let loads = 0
  page.on('load', () => { loads += 1 })
  const lines = readline.createInterface({ input: process.stdin })
  const shot = name => page.screenshot({ path: `${process.env.SHOTS}/${name}.png`, fullPage: false })
  try {
    await page.goto(process.env.URL)
    await page.waitForSelector('#instances li[data-instance]', { timeout: 20000 })
    await page.waitForSelector('#chain .record', { timeout: 20000 })
    const instances = await page.$$eval('#instances li[data-instance]', els => els.map(e => ({ id: e.dataset.instance, status: e.dataset.status })))
    const interfaces = await page.$$eval('#interfaces [data-interface]', els => els.map(e => e.dataset.interface))
    await shot('1-chain')
    out({ step: 'loaded', instances, interfaces, url: page.url(), problems })
    for await (const line of lines) {
      const ask = JSON.parse(line)
      if (ask.wait_entry) {
        const sel = `#chain .record[data-entry-address="${ask.wait_entry}"]`
        await page.waitForSelector(sel, { timeout: 20000 })
        const text = await page.$eval(sel, e => e.textContent)
        await page.waitForTimeout(300)
        await shot('2-entry')
        out({ step: 'entry', loads, text, problems })
      } else if (ask.wait_agent) {
        await page.click('#tabs button[data-tab="dht"]')
        await page.waitForSelector(`#ring circle.agent[data-agent="${ask.wait_agent}"]`, { timeout: 20000 })
        const agents = await page.$$eval('#ring circle.agent', els => els.map(e => e.dataset.agent))
        const first = await page.$('#dht-ops tr[data-op]')
        if (first) await first.click()
        await page.waitForTimeout(300)
        await shot('3-dht')
        out({ step: 'ring', loads, agents, problems })
      } else if (ask.wait_log) {
        await page.click('#tabs button[data-tab="log"]')
        for (const kind of ask.wait_log) await page.waitForSelector(`#log-body tr[data-kind="${kind}"]`, { timeout: 20000 })
        const rows = await page.$$eval('#log-body tr[data-kind]', els => els.map(e => [e.dataset.kind, e.dataset.what]))
        await shot('4-log')
        await page.click('#tabs button[data-tab="network"]')
        await page.waitForSelector('#network .card', { timeout: 20000 })
        await shot('5-network')
        out({ step: 'log', loads, rows, problems })
      } else if (ask.done) {
        break
      }
    }
  } finally {
    await context.close()
  }
}

main().catch(err => { out({ step: 'failed', error: String(err && err.stack || err) }); process.exit(1) })
