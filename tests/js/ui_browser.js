// Drives Debian's Chromium (headless, fresh profile) with playwright-core to a page served
// by the conductor's UI interface; prints the page's result JSON.
// CHROMIUM: the browser; PROFILE_DIR: an empty directory; UI_URL: the page.
const { chromium } = require('playwright-core')

async function main () {
  const context = await chromium.launchPersistentContext(process.env.PROFILE_DIR, {
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run'],
  })
  try {
    const page = await context.newPage()
    const console_ = []
    page.on('console', msg => console_.push(msg.text()))
    await page.goto(process.env.UI_URL)
    const result = await page.waitForSelector('#result', { state: 'attached', timeout: 20000 })
    console.log(JSON.stringify({ result: JSON.parse(await result.textContent()), console: console_ }))
  } finally {
    await context.close()
  }
}

main().catch(err => { console.error(err); process.exit(1) })
