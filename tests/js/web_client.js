// hc-web-client 0.5.3, unmodified, against a `holochain -c` conductor.
// HC_URL: the admin WebSocket; HC_INSTANCE: an instance of the signal test DNA.
// Prints one JSON line per step; exits non-zero on any failure.
const { connect } = require('@holochain/hc-web-client')

const url = process.env.HC_URL
const instance = process.env.HC_INSTANCE
const step = (name, value) => console.log(JSON.stringify({ step: name, value: value }))
const timer = setTimeout(() => { step('timeout', null); process.exit(2) }, 20000)

connect({ url: url }).then(async ({ call, callZome, close, onSignal, ws }) => {
  step('info/instances', await call('info/instances')({}))
  step('agent/list', await call('admin', 'agent', 'list')({}))
  step('echo', await callZome(instance, 'talk', 'echo')({ value: 'from node' }))
  try {
    await callZome(instance, 'talk', 'nope')({})
  } catch (err) {
    step('error', err)
  }
  const signal = new Promise(resolve => onSignal(msg => {
    if (msg.signal && msg.signal.signal_type === 'User') resolve(msg)
  }))
  const stats = new Promise(resolve => onSignal(msg => { if (msg.instance_stats) resolve(msg) }))
  step('shout', await callZome(instance, 'talk', 'shout')({ message: 'hello signal' }))
  step('signal', await signal)
  step('stats', await stats)
  ws.on('close', code => { step('closed', code); clearTimeout(timer) })
  close()
}).catch(err => { step('failed', String(err && err.message || err)); process.exit(1) })
