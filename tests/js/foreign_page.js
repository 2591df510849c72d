// A foreign web page against the conductor, in Debian's Chromium (headless, fresh profile) driven
// by playwright-core. Foreign names resolve to 127.0.0.1 (--host-resolver-rules), as an attacker's
// DNS would make them.  Prints one JSON line: {attack, rebinding, ui}.
//   CHROMIUM, PROFILE_DIR: the browser and an empty profile directory
//   ATTACK_URL: the attacker's page (a second local server under a foreign name); it runs its
//               attacks and puts their outcome in #result
//   REBIND: JSON {name: url} of the conductor's servers under a foreign name (DNS rebinding)
//   WS_PORTS: JSON list of the conductor's WebSocket ports, tried from a rebound page
//   UI_URL: the conductor's own UI page (hc-web-client), which must keep working
const { chromium } = require('playwright-core')

const RULES = 'MAP evil.example 127.0.0.1, MAP 127.evil.example 127.0.0.1, MAP 127.0.0.1.nip.io 127.0.0.1'

async function result (page) {
  const el = await page.waitForSelector('#result', { state: 'attached', timeout: 30000 })
  return JSON.parse(await el.textContent())
}

async function main () {
  const context = await chromium.launchPersistentContext(process.env.PROFILE_DIR, {
    executablePath: process.env.CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', `--host-resolver-rules=${RULES}`],
  })
  try {
    const page = await context.newPage()
    await page.goto(process.env.ATTACK_URL)
    const attack = await result(page)

    // DNS rebinding: the page's own origin is a foreign name that now resolves to loopback, so to
    // the browser every request below is same-origin and readable, unless the server refuses it.
    const rebinding = {}
    for (const [name, url] of Object.entries(JSON.parse(process.env.REBIND))) {
      const response = await page.goto(url)
      rebinding[name] = {
        status: response.status(),
        fetched: await page.evaluate(async () => {
          const r = await fetch('/_dna_connections.json', { method: 'GET' }).catch(e => null)
          const post = await fetch('/', {
            method: 'POST',
            headers: { 'Content-Type': 'application/json' },
            body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'admin/interface/list' }),
          }).catch(e => null)
          return { get: r && r.status, post: post && post.status, body: post && await post.text() }
        }),
        ws: await page.evaluate(async ports => {
          const tries = ports.map(port => new Promise(resolve => {
            const ws = new WebSocket(`ws://${location.hostname}:${port}`)
            ws.onopen = () => { ws.close(); resolve('open') }
            ws.onerror = () => resolve('refused')
            setTimeout(() => resolve('timeout'), 10000)
          }))
          return Promise.all(tries)
        }, JSON.parse(process.env.WS_PORTS)),
      }
    }

    await page.goto(process.env.UI_URL)
    const ui = await result(page)
    console.log(JSON.stringify({ attack, rebinding, ui }))
  } finally {
    await context.close()
  }
}

main().catch(err => { console.error(err); process.exit(1) })
