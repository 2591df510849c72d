// The WebSocket example of the holochain-rust guide (doc/holochain_101/src/
// json_rpc_websockets.md), with rpc-websockets; only the URL may come from
// HC_URL so tests can use a free port.  Prints one JSON line per step.
let WebSocket = require('rpc-websockets').Client

let holochainUri = process.env.HC_URL || 'ws://localhost:8888'
let ws = new WebSocket(holochainUri)

ws.on('open', function() {
  let method = 'info/instances'
  let params = {}
  ws.call(method, params).then(result => {
    console.log(JSON.stringify({step: 'info/instances', result: result}))

    let method = 'call'
    let params = {
      instance_id: "test-instance",
      zome: "blog",
      function: "create_post",
      args: {
        content: "sample content"
      }
    }
    return ws.call(method, params)
  }).then(result => {
    console.log(JSON.stringify({step: 'create_post', result: result}))
    let address = JSON.parse(result).Ok
    return ws.call('call', {instance_id: "test-instance", zome: "blog", function: "get_post",
                           args: {post_address: address}})
  }).then(result => {
    console.log(JSON.stringify({step: 'get_post', result: result}))
    ws.close()
  }).catch(err => {
    console.log(JSON.stringify({step: 'error', error: err}))
    process.exit(1)
  })
})

ws.on('close', function(code) {
  console.log(JSON.stringify({step: 'closed', code: code}))
})
