// The reference server: a JSON-RPC 2.0 WebSocket server built with npm
// rpc-websockets 4.x (the line @holochain/hc-web-client 0.5.x wraps), with
// trivial methods shaped like the conductor's: `info/instances` answers a
// fixed list, `call` a fixed zome result.  Listens on 127.0.0.1 only.
//   node reference_server.js [port]      (port 0 or absent: any free port)
// Prints "listening <port>" once it accepts connections.
'use strict';
const { Server } = require('rpc-websockets');

const port = Number(process.argv[2] || 0);
const INSTANCES = [{ id: 'test-instance', dna: 'hc-run-dna', agent: 'hc-run-agent' }];
const RESULT = '{"Ok":"QmZmh3tbh5M8YqvnT1ZkJGZ4bYbqgDbS2ChGvnA7GwdNjo"}';

const server = new Server({ host: '127.0.0.1', port });
server.register('info/instances', () => INSTANCES);
server.register('call', () => RESULT);
server.on('listening', () => console.log(`listening ${server.wss.address().port}`));
server.on('error', (err) => { console.error(err.message); process.exit(2); });
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => process.exit(0));
