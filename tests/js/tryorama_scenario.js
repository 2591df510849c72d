// tryorama 0.3.1, unmodified, spawning our `holochain` (TRYORAMA_HOLOCHAIN_PATH) with the
// configs it generates.  BLOG_DNA: the example blog DNA; TALK_DNA: the signal test DNA.
// The waiter is strict: a consistency wait that times out fails the scenario, so the
// conductor's consistency signals must all be satisfiable.
const tape = require('tape')
const { Orchestrator, Config, tapeExecutor, localOnly, callSync, combine } = require('@holochain/tryorama')

const blog = Config.dna(process.env.BLOG_DNA, 'blog')
const config = Config.gen(
  {
    app1: blog,
    app2: Config.dna(process.env.BLOG_DNA, 'blog', { uuid: 'altered' }),
    talk: Config.dna(process.env.TALK_DNA, 'talk'),
  },
  { logger: { type: 'error' }, bridges: [Config.bridge('helper', 'talk', 'app1')] }
)

const orchestrator = new Orchestrator({
  middleware: combine(tapeExecutor(tape), localOnly, callSync),
  waiter: { softTimeout: 3000, hardTimeout: 6000, strict: true },
})

orchestrator.registerScenario('two conductors, three instances each', async (s, t) => {
  const { alice, bob } = await s.players({ alice: config, bob: config }, true)
  const a1 = alice.info('app1'), a2 = alice.info('app2'), b1 = bob.info('app1')
  t.ok(a1.agentAddress.startsWith('HcS') && a1.agentAddress.length === 63, 'real agent address')
  t.notEqual(a1.agentAddress, b1.agentAddress, 'players are different agents')
  t.ok(a1.dnaAddress.startsWith('Qm') && a1.dnaAddress.length === 46, 'real DNA address')
  t.notEqual(a1.dnaAddress, a2.dnaAddress, 'the uuid changes the DNA')
  t.equal(a1.dnaAddress, b1.dnaAddress, 'the same scenario uuid gives the same DNA to both players')

  const created = await alice.callSync('app1', 'blog', 'create_post', { content: 'Holo world', in_reply_to: null })
  t.ok(created.Ok && created.Ok.startsWith('Qm'), 'create_post answers an address')
  const got = await alice.call('app1', 'blog', 'get_post', { post_address: created.Ok })
  t.deepEqual(got, { Ok: { App: ['post', '{"content":"Holo world","date_created":"now"}'] } })
  const elsewhere = await alice.call('app2', 'blog', 'get_post', { post_address: created.Ok })
  t.deepEqual(elsewhere, { Ok: null }, 'another DNA holds nothing of it')
  const many = await Promise.all([1, 2, 3, 4, 5].map(i =>
    bob.call('app1', 'blog', 'create_post', { content: `bob ${i}`, in_reply_to: null })))
  t.ok(many.every(r => r.Ok), 'concurrent calls on one connection')
  await s.consistency()
  t.deepEqual(await bob.call('talk', 'talk', 'echo', { value: 'hi' }), { Ok: 'hi' })
  const instances = await alice.admin('admin/instance/list', {})
  t.deepEqual(instances.map(i => i.id).sort(), ['app1', 'app2', 'talk'])
  const bridges = await alice.admin('admin/bridge/list', {})
  t.deepEqual(bridges, [{ caller_id: 'talk', callee_id: 'app1', handle: 'helper' }])
})

orchestrator.registerScenario('a killed and respawned player keeps its chain', async (s, t) => {
  const { alice } = await s.players({ alice: config }, true)
  const created = await alice.callSync('app1', 'blog', 'create_post', { content: 'kept', in_reply_to: null })
  await alice.kill()
  await alice.spawn()
  const got = await alice.call('app1', 'blog', 'get_post', { post_address: created.Ok })
  t.deepEqual(got, { Ok: { App: ['post', '{"content":"kept","date_created":"now"}'] } })
  const dump = await alice.stateDump('app1')
  t.equal(dump.source_chain.length, 3, 'agent id, public grant, the post')
})

orchestrator.run().then(report => {
  console.log('REPORT ' + JSON.stringify({ successes: report.successes, errors: report.errors.map(e => String(e.error)) }))
})
