// tryorama 0.3.1, unmodified, spawning our `holochain` with a WebAssembly DNA (WAT_DNA: the
// proxy zome of tests/wat_zomes.py), networked through SIM2H_URL (a nats-server's WebSocket).  Alice commits through the zome, Bob's conductor holds the
// entry (running the zome's validation callback as a holder) and reads it back; a trapping
// call is an error while the conductor keeps answering.
const tape = require('tape')
const { Orchestrator, Config, tapeExecutor, localOnly, callSync, combine } = require('@holochain/tryorama')

const config = Config.gen(
  { wat: Config.dna(process.env.WAT_DNA, 'wat') },
  { logger: { type: 'error' }, network: { type: 'sim2h', sim2h_url: process.env.SIM2H_URL } }
)

const orchestrator = new Orchestrator({
  middleware: combine(tapeExecutor(tape), localOnly, callSync),
  waiter: { softTimeout: 3000, hardTimeout: 6000, strict: true },
})

const NOTE = { App: ['note', '"hello from wasm"'] }
const GET = { status_request: 'Latest', entry: true, headers: false, timeout: 5000 }

orchestrator.registerScenario('a WASM zome on two conductors', async (s, t) => {
  const { alice, bob } = await s.players({ alice: config, bob: config }, true)
  const committed = await alice.callSync('wat', 'wat', 'commit', { entry: NOTE, options: { provenance: [] } })
  t.equal(committed.ok, true, 'the commit envelope is ok')
  const address = JSON.parse(committed.value).address
  t.ok(address.startsWith('Qm') && address.length === 46, 'an entry address')
  await s.consistency()
  const got = await bob.call('wat', 'wat', 'get', { address, options: GET })
  t.deepEqual(JSON.parse(got.value).result.Single.entry, NOTE, 'bob reads what alice committed')
  const globals = JSON.parse((await bob.call('wat', 'wat', 'globals', {})).value)
  t.equal(globals.agent_address, bob.info('wat').agentAddress, 'globals name the calling agent')
  let trapped = null
  try {
    await bob.call('wat', 'wat', 'trap', {})
  } catch (e) {
    trapped = e
  }
  const text = JSON.stringify(trapped || {})
  t.ok(text.includes("zome 'wat' function 'trap'"), 'a trap is an error naming the zome and function: ' + text)
  t.deepEqual(await bob.call('wat', 'wat', 'echo', { still: 'here' }), { still: 'here' }, 'and bob keeps answering')
})

orchestrator.run().then(report => {
  console.log('REPORT ' + JSON.stringify({ successes: report.successes, errors: report.errors.map(e => String(e.error)) }))
})
