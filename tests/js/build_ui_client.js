// Bundles the unmodified hc-web-client 0.5.3 npm package for the browser (global
// `holochainclient`, as its own build:web script names it) into OUT.
require('esbuild').buildSync({
  entryPoints: [require.resolve('@holochain/hc-web-client')],
  bundle: true,
  platform: 'browser',
  format: 'iife',
  globalName: 'holochainclient',
  outfile: process.env.OUT,
  logLevel: 'error',
})
