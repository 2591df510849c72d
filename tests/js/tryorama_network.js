// tryorama 0.3.1, unmodified, driving three of our `holochain` processes that share a DHT
// through a NATS relay, configured as app_spec does it: a sim2h table (SIM2H_URL, the
// relay's WebSocket listener).  The waiter is strict: every consistency wait must end
// because its pending events were emitted, and right after one the data is visible at
// every player, without polling.  APP_SPEC_DNA: our packaged examples/app_spec.
const tape = require('tape')
const { Orchestrator, Config, tapeExecutor, localOnly, callSync, combine } = require('@holochain/tryorama')

const config = Config.gen(
  { app: Config.dna(process.env.APP_SPEC_DNA, 'app-spec') },
  { logger: { type: 'error' }, network: { type: 'sim2h', sim2h_url: process.env.SIM2H_URL } }
)

const orchestrator = new Orchestrator({
  middleware: combine(tapeExecutor(tape), localOnly, callSync),
  waiter: { softTimeout: 3000, hardTimeout: 8000, strict: true },
})

const post = content => ({ App: ['post', JSON.stringify({ content, date_created: 'now' })] })

orchestrator.registerScenario('consistency waits for every holder', async (s, t) => {
  const { alice, bob, carol } = await s.players({ alice: config, bob: config, carol: config }, true)
  const aliceAddress = alice.info('app').agentAddress

  const created = await alice.callSync('app', 'blog', 'create_post', { content: 'wait for me', in_reply_to: null })
  t.ok(created.Ok, 'alice posts')
  t.deepEqual(await bob.call('app', 'blog', 'get_post', { post_address: created.Ok }), { Ok: post('wait for me') },
    'bob gets it right after the wait')
  const links = await carol.call('app', 'blog', 'posts_by_agent', { agent: aliceAddress })
  t.deepEqual(links.Ok.links.map(l => l.address), [created.Ok], 'carol sees the link right after the wait')

  await alice.callSync('app', 'blog', 'delete_post', { content: 'wait for me' })
  const after = await bob.call('app', 'blog', 'posts_by_agent', { agent: aliceAddress })
  t.deepEqual(after.Ok.links, [], 'the removal too')

  const many = await Promise.all([1, 2, 3].map(i =>
    carol.call('app', 'blog', 'create_post', { content: `carol ${i}`, in_reply_to: null })))
  await s.consistency()
  for (const r of many) {
    t.deepEqual(await alice.call('app', 'blog', 'get_post', { post_address: r.Ok }), { Ok: post(`carol ${many.indexOf(r) + 1}`) })
  }
  const ping = await bob.call('app', 'blog', 'ping', { to_agent: aliceAddress, message: 'hi' })
  t.ok(ping.Ok && ping.Ok.body.startsWith('got hi from'), 'direct messages between processes')
})

orchestrator.registerScenario('a player that comes late catches up', async (s, t) => {
  const { alice, bob } = await s.players({ alice: config, bob: config }, true)
  const created = await alice.callSync('app', 'blog', 'create_post', { content: 'before you came', in_reply_to: null })
  await alice.kill()
  const { carol } = await s.players({ carol: config }, true)
  const got = await carol.call('app', 'blog', 'get_post', { post_address: created.Ok })
  t.deepEqual(got, { Ok: post('before you came') }, 'from bob, the author being gone')
})

orchestrator.run().then(report => {
  console.log('REPORT ' + JSON.stringify({ successes: report.successes, errors: report.errors.map(e => String(e.error)) }))
})
