// The conductor dashboard: plain JavaScript, no build step, nothing fetched from elsewhere.
// The server pushes state over /ws (see holochain/interfaces/dashboard/server.py); this file
// only draws it.  Every value shown comes from the conductor and is put in the page as text,
// never as HTML.
'use strict'

const PAGE = 50
const LOG_ROWS = 500
const SVG = 'http://www.w3.org/2000/svg'

const S = {
  ws: null, overview: null, network: [], dht: null, watch: null, started: 0,
  chain: null, chainBefore: null, // null: following the head
  seenRecords: new Set(), selectedOp: null, tab: 'chain',
  log: [], logFilter: 'all', paused: false, unseen: 0, retry: 500,
}

// -- small DOM helpers -------------------------------------------------------------------

function h (tag, attrs, ...children) {
  const el = document.createElement(tag)
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === null || v === undefined || v === false) continue
    if (k === 'class') el.className = v
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v)
    else el.setAttribute(k, v === true ? '' : v)
  }
  for (const c of children.flat()) if (c !== null && c !== undefined && c !== false) el.append(c instanceof Node ? c : String(c))
  return el
}
function s (tag, attrs) {
  const el = document.createElementNS(SVG, tag)
  for (const [k, v] of Object.entries(attrs || {})) if (v !== null && v !== undefined) el.setAttribute(k, v)
  return el
}
const $ = id => document.getElementById(id)
const short = (a, n = 8) => (a && a.length > n * 2 + 1) ? `${a.slice(0, n)}…${a.slice(-4)}` : (a || '')
const fmtTime = t => new Date(t * 1000).toLocaleTimeString([], { hour12: false })
const fmtDur = d => d < 0.001 ? `${(d * 1e6).toFixed(0)} µs` : d < 1 ? `${(d * 1000).toFixed(1)} ms` : `${d.toFixed(2)} s`
function fmtStamp (iso) { // holochain-rust's RFC 3339 with nanoseconds, shown in local time to the second
  if (!iso) return ''
  const d = new Date(iso.replace(/(\.\d{3})\d+/, '$1'))
  if (isNaN(d)) return iso
  const p = n => String(n).padStart(2, '0')
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`
}
function fmtAge (secs) {
  if (secs < 60) return `${Math.floor(secs)}s`
  if (secs < 3600) return `${Math.floor(secs / 60)}m ${Math.floor(secs % 60)}s`
  return `${Math.floor(secs / 3600)}h ${Math.floor(secs % 3600 / 60)}m`
}
function toast (text) {
  const t = $('toast'); t.textContent = text; t.classList.remove('hidden')
  clearTimeout(toast.timer); toast.timer = setTimeout(() => t.classList.add('hidden'), 1400)
}
async function copyText (text, button) {
  try { await navigator.clipboard.writeText(text) } catch (e) {
    const area = h('textarea', {}, text); document.body.append(area); area.select(); document.execCommand('copy'); area.remove()
  }
  if (button) { button.classList.add('done'); button.textContent = 'copied'; setTimeout(() => { button.classList.remove('done'); button.textContent = 'copy' }, 1200) }
  toast('Copied ' + short(text, 10))
}
function addr (value, { n = 0, cls = '' } = {}) {
  if (!value) return h('span', { class: 'muted' }, '—')
  const b = h('button', { class: 'copy', title: 'Copy to the clipboard', onclick: ev => { ev.stopPropagation(); copyText(value, b) } }, 'copy')
  return h('span', { class: 'addr ' + cls, title: value, 'data-address': value }, n ? short(value, n) : value, b)
}
function pill (text, cls) { return h('span', { class: 'pill ' + (cls || text) }, text) }
function clear (el, ...children) { el.replaceChildren(...children.flat().filter(Boolean)); return el }

// JSON as coloured text (spans, never HTML)
function jsonView (value, indent = '') {
  const out = []
  const pad = indent + '  '
  if (value === null || typeof value === 'boolean') out.push(h('span', { class: 'j-lit' }, String(value)))
  else if (typeof value === 'number') out.push(h('span', { class: 'j-num' }, String(value)))
  else if (typeof value === 'string') out.push(h('span', { class: 'j-str' }, JSON.stringify(value)))
  else if (Array.isArray(value)) {
    if (!value.length) return ['[]']
    out.push('[\n')
    value.forEach((v, i) => { out.push(pad, ...jsonView(v, pad), i < value.length - 1 ? ',\n' : '\n') })
    out.push(indent + ']')
  } else {
    const keys = Object.keys(value)
    if (!keys.length) return ['{}']
    out.push('{\n')
    keys.forEach((k, i) => {
      out.push(pad, h('span', { class: 'j-key' }, JSON.stringify(k)), ': ', ...jsonView(value[k], pad), i < keys.length - 1 ? ',\n' : '\n')
    })
    out.push(indent + '}')
  }
  return out
}

// -- the connection -------------------------------------------------------------------------

function connect () {
  const ws = new WebSocket(`ws://${location.host}/ws`)
  S.ws = ws
  ws.onopen = () => {
    S.retry = 500
    setLive(true)
    if (S.watch) send({ watch: S.watch })
    if (S.chainBefore !== null && S.watch) send({ chain: { instance: S.watch, before: S.chainBefore, limit: PAGE } })
  }
  ws.onmessage = ev => onMessage(JSON.parse(ev.data))
  ws.onclose = () => { setLive(false); setTimeout(connect, S.retry); S.retry = Math.min(S.retry * 2, 5000) }
}
function send (msg) { if (S.ws && S.ws.readyState === 1) S.ws.send(JSON.stringify(msg)) }
function setLive (on) {
  const el = $('live'); el.className = 'live ' + (on ? 'on' : 'off'); el.textContent = on ? 'live' : 'disconnected — retrying'
}

function onMessage (m) {
  if (m.type === 'hello') { S.started = m.started; return }
  if (m.type === 'overview') { S.overview = m.data; drawOverview(); return }
  if (m.type === 'network') { S.network = m.data; drawNetwork(); return }
  if (m.type === 'dht') { S.dht = m.data; drawDht(); return }
  if (m.type === 'chain') return onChain(m)
  if (m.type === 'events') return onEvents(m)
  if (m.type === 'error') toast(m.message)
}

// -- the conductor (sidebar and top bar) ------------------------------------------------------

function watch (id) {
  if (S.watch === id) return
  S.watch = id; S.chain = null; S.chainBefore = null; S.seenRecords = new Set(); S.dht = null; S.selectedOp = null
  clear($('chain')); drawDht()
  send({ watch: id })
  drawOverview()
}

function drawOverview () {
  const o = S.overview
  if (!o) return
  if (!S.watch || !o.instances.some(i => i.id === S.watch)) {
    const first = o.instances.find(i => i.status === 'running') || o.instances[0]
    if (first) { watch(first.id); return }
  }
  const running = o.instances.filter(i => i.status === 'running').length
  clear($('meta'),
    h('span', {}, 'holochain-py ', h('b', {}, o.version)),
    h('span', {}, h('b', {}, `${running}/${o.instances.length}`), ' instances running'),
    h('span', { id: 'uptime' }, 'up ', h('b', {}, fmtAge(Date.now() / 1000 - o.started))))
  clear($('instances'), o.instances.map(i => h('li', {
    class: i.id === S.watch ? 'selected' : '', 'data-instance': i.id, 'data-status': i.status, onclick: () => watch(i.id),
  },
  h('div', { class: 'name' }, i.id, pill(i.status, i.status === 'running' ? 'running' : 'stopped')),
  h('div', { class: 'sub' }, h('span', {}, `${i.dna} · ${i.agent}`), h('span', {}, i.chain_length === null ? '' : `${i.chain_length} records`)),
  h('div', { class: 'sub' }, h('span', { class: 'mono', title: i.agent_address }, short(i.agent_address, 6)), h('span', {}, i.storage)))))
  const list = (el, items, draw) => clear($(el), items.length ? items.map(draw) : h('div', { class: 'empty' }, 'none'))
  list('interfaces', o.interfaces, f => h('div', { class: 'item', 'data-interface': f.id },
    h('div', { class: 'row' }, h('b', { class: 'ellipsis', title: f.id }, f.id), pill(f.running ? `${f.type} :${f.port}` : 'stopped', f.running ? 'running' : 'stopped')),
    h('div', { class: 'row sub' }, h('span', {}, `${f.instances.length ? f.instances.join(', ') : 'no instances'}${f.connections === null ? '' : ` · ${f.connections} connected`}`), f.admin ? pill('admin', 'admin') : null)))
  list('dnas', o.dnas, d => h('div', { class: 'item' },
    h('div', { class: 'row' }, h('b', {}, d.name || d.id), h('span', { class: 'muted' }, d.id)),
    h('div', { class: 'sub' }, addr(d.hash, { n: 8 })),
    h('div', { class: 'sub' }, d.zomes.length ? `zomes: ${d.zomes.join(', ')}` : '')))
  list('agents', o.agents, a => h('div', { class: 'item' },
    h('div', { class: 'row' }, h('b', {}, a.name), h('span', { class: 'muted' }, a.test_agent ? 'test agent' : a.id)),
    h('div', { class: 'sub' }, addr(a.public_address, { n: 8 }))))
  list('bridges', o.bridges, b => h('div', { class: 'item' }, h('span', { class: 'mono' }, `${b.caller} → ${b.callee}`), h('div', { class: 'sub' }, `handle ${b.handle}`)))
  list('ui-interfaces', o.ui_interfaces, u => h('div', { class: 'item' },
    h('div', { class: 'row' }, h('b', {}, u.id), pill(u.running ? `${u.bind_address}:${u.port}` : 'stopped', u.running ? 'running' : 'stopped')),
    h('div', { class: 'sub' }, `bundle ${u.bundle}${u.dna_interface ? ` · via ${u.dna_interface}` : ''}`)))
}

// -- the source chain ---------------------------------------------------------------------

const SYSTEM = new Set(['%dna', '%agent_id', '%cap_token_grant', '%cap_token_claim', '%deletion', '%link_add', '%link_remove', '%chain_header'])

function entryBody (rec) {
  const e = rec.entry
  if (rec.entry_cut) return [e, h('div', { class: 'muted' }, '… (cut: the entry is longer than the dashboard shows)')]
  if (e && Array.isArray(e.App) && e.App.length === 2 && typeof e.App[1] === 'string') {
    try { return jsonView(JSON.parse(e.App[1])) } catch (err) { return [e.App[1]] }
  }
  if (rec.entry_type === '%dna' && e && e.Dna) return jsonView({ name: e.Dna.name, version: e.Dna.version, uuid: e.Dna.uuid, zomes: Object.keys(e.Dna.zomes || {}) })
  return jsonView(e)
}

function recordView (rec, fresh) {
  const hd = rec.header || {}
  const sys = SYSTEM.has(rec.entry_type)
  const provenances = (hd.provenances || []).map(p => p[0])
  return h('li', { class: `record${sys ? ' sys' : ''}${fresh ? ' fresh' : ''}`, 'data-seq': rec.seq, 'data-entry-address': rec.entry_address, 'data-header-address': rec.header_address },
    h('div', { class: 'top' }, h('span', { class: 'seq' }, `#${rec.seq}`), h('span', { class: 'etype' }, rec.entry_type), hd.link_update_delete ? pill('updates/deletes ' + short(hd.link_update_delete, 6), 'err') : null,
      h('span', { class: 'time', title: hd.timestamp }, fmtStamp(hd.timestamp))),
    h('div', { class: 'addrs' }, h('span', { class: 'k' }, 'entry'), addr(rec.entry_address), h('span', { class: 'k' }, 'header'), addr(rec.header_address)),
    h('pre', { class: 'entry' }, entryBody(rec)),
    h('details', { class: 'header' }, h('summary', {}, 'header'),
      h('div', { class: 'addrs' },
        h('span', { class: 'k' }, 'previous'), addr(hd.link),
        h('span', { class: 'k' }, 'same type'), addr(hd.link_same_type),
        h('span', { class: 'k' }, 'signed by'), h('span', {}, provenances.map(p => addr(p, { n: 10 }))),
        h('span', { class: 'k' }, 'time'), h('span', { class: 'mono' }, hd.timestamp || '')),
      h('pre', { class: 'entry' }, jsonView(hd))))
}

function onChain (m) {
  const page = m.data
  if (page.instance !== S.watch) return
  if (m.live && S.chainBefore !== null) { // the head moved while the user reads older records
    const b = $('chain-banner')
    b.textContent = `The chain grew to ${page.length} records — show the newest`
    b.classList.remove('hidden'); b.onclick = () => showPage(null)
    return
  }
  const first = S.chain === null
  S.chain = page
  const fresh = rec => !first && m.live && !S.seenRecords.has(rec.header_address)
  clear($('chain'), page.records.map(r => recordView(r, fresh(r))))
  page.records.forEach(r => S.seenRecords.add(r.header_address))
  const top = page.records.length ? page.records[0].seq : 0
  const bottom = page.records.length ? page.records[page.records.length - 1].seq : 0
  $('chain-title').textContent = `Source chain of ${page.instance}`
  $('chain-range').textContent = page.records.length ? `records ${bottom}–${top} of ${page.length}, newest first` : 'empty'
  $('chain-newer').disabled = page.before >= page.length
  $('chain-newest').disabled = page.before >= page.length
  $('chain-older').disabled = bottom <= 0
  if (page.before >= page.length) $('chain-banner').classList.add('hidden')
}

function showPage (before) {
  S.chainBefore = (before === null || (S.chain && before >= S.chain.length)) ? null : Math.max(PAGE, before)
  $('chain-banner').classList.add('hidden')
  send({ chain: { instance: S.watch, before: S.chainBefore, limit: PAGE } })
}

// -- the DHT ring (drawn as Holochain Playground draws it) -----------------------------------------

const C = 320; const R = 230
function polar (frac, r) { const a = frac * 2 * Math.PI - Math.PI / 2; return [C + r * Math.cos(a), C + r * Math.sin(a)] }
function arcPath (from, to, r) {
  if (to - from >= 0.9999) return null
  const [x1, y1] = polar(from, r); const [x2, y2] = polar(to, r)
  return `M ${x1} ${y1} A ${r} ${r} 0 ${to - from > 0.5 ? 1 : 0} 1 ${x2} ${y2}`
}

function drawDht () {
  const svg = $('ring')
  const d = S.dht
  clear(svg)
  if (!d) {
    svg.append(s('circle', { class: 'track', cx: C, cy: C, r: R }))
    const t = s('text', { class: 'center', x: C, y: C, 'text-anchor': 'middle' }); t.textContent = S.watch ? 'not on a network' : ''
    svg.append(t); clear($('dht-agents')); clear($('dht-ops')); $('dht-summary').textContent = ''
    return
  }
  $('dht-summary').textContent = `space ${short(d.space, 8)} · ${d.members} agents · ${d.full_sync ? 'full sync' : `redundancy ${d.redundancy}`} · ${d.ops_known} ops known here`
  svg.append(s('circle', { class: 'track', cx: C, cy: C, r: R }))
  const colour = a => a.me ? 'var(--teal)' : a.local ? 'var(--blue)' : 'var(--violet)'
  d.agents.forEach((a, i) => { // each agent's arc on its own track just outside the ring
    const r = R + 16 + (i % 6) * 9
    for (const [from, to] of a.arcs) {
      const p = arcPath(from, to, r)
      svg.append(p ? s('path', { class: 'arc', d: p, stroke: colour(a) }) : s('circle', { class: 'arc', cx: C, cy: C, r, stroke: colour(a) }))
    }
  })
  const selected = d.ops.find(o => o.op === S.selectedOp)
  for (const o of d.ops) {
    const [x, y] = polar(o.location, R - 22)
    const dot = s('circle', { class: 'op' + (o.op === S.selectedOp ? ' selected' : ''), cx: x, cy: y, r: o.op === S.selectedOp ? 5 : 3, 'data-op': o.op })
    dot.addEventListener('click', () => selectOp(o.op))
    const title = s('title'); title.textContent = `op ${o.op}\nholders: ${o.holders.length}`; dot.append(title)
    svg.append(dot)
  }
  if (selected) {
    const [ox, oy] = polar(selected.location, R - 22)
    for (const holder of selected.holders) {
      const a = d.agents.find(x => x.agent === holder)
      if (!a) continue
      const [ax, ay] = polar(a.location, R)
      svg.append(s('line', { class: 'holder-line', x1: ox, y1: oy, x2: ax, y2: ay }))
    }
  }
  for (const a of d.agents) {
    const [x, y] = polar(a.location, R)
    const dot = s('circle', { class: 'agent ' + (a.me ? 'me' : a.local ? 'local' : 'peer'), cx: x, cy: y, r: a.me ? 11 : 9, 'data-agent': a.agent })
    const title = s('title'); title.textContent = `${a.agent}\nlocation ${(a.location * 2 ** 32).toFixed(0)}\n${a.exact ? 'holds' : 'should hold'} ${a.ops} ops`; dot.append(title)
    dot.addEventListener('click', () => copyText(a.agent))
    svg.append(dot)
    const [lx, ly] = polar(a.location, R + 66)
    const label = s('text', { x: lx, y: ly, 'text-anchor': 'middle' }); label.textContent = a.instance ? `${a.instance} ${short(a.agent, 4)}` : short(a.agent, 4)
    const count = s('text', { class: 'count', x: lx, y: ly + 14, 'text-anchor': 'middle' }); count.textContent = `${a.exact ? '' : '≈'}${a.ops} ops`
    svg.append(label, count)
  }
  const big = s('text', { class: 'big', x: C, y: C - 4, 'text-anchor': 'middle' }); big.textContent = `${d.members}`
  const sub = s('text', { class: 'center', x: C, y: C + 20, 'text-anchor': 'middle' }); sub.textContent = d.members === 1 ? 'agent' : 'agents'
  svg.append(big, sub)

  clear($('dht-agents'), h('thead', {}, h('tr', {}, h('th', {}, 'agent'), h('th', {}, 'location'), h('th', {}, 'arc'), h('th', {}, 'ops'))),
    h('tbody', {}, d.agents.map(a => h('tr', { 'data-agent': a.agent },
      h('td', {}, h('span', { class: 'dot ' + (a.me ? 'me' : a.local ? 'local' : 'peer') }), ' ', addr(a.agent, { n: 8 }), a.instance ? h('span', { class: 'muted' }, ` ${a.instance}`) : null),
      h('td', { class: 'mono' }, (a.location * 2 ** 32).toFixed(0)),
      h('td', {}, `${(a.arcs.reduce((t, [f, e]) => t + e - f, 0) * 100).toFixed(0)} %`),
      h('td', { title: a.exact ? 'ops this node holds or authored' : 'ops known here that fall in its arc' }, `${a.exact ? '' : '≈ '}${a.ops}`)))))
  clear($('dht-ops'), h('thead', {}, h('tr', {}, h('th', {}, 'op'), h('th', {}, 'author'), h('th', {}, 'holders'))),
    h('tbody', {}, d.ops.slice(0, 60).map(o => h('tr', { class: 'clickable' + (o.op === S.selectedOp ? ' selected' : ''), 'data-op': o.op, onclick: () => selectOp(o.op) },
      h('td', {}, addr(o.op, { n: 8 })), h('td', {}, addr(o.author, { n: 6 })),
      h('td', {}, o.holders.map(x => h('div', { class: 'mono' }, short(x, 6))))))))
}
function selectOp (op) { S.selectedOp = S.selectedOp === op ? null : op; drawDht() }

// -- the network ------------------------------------------------------------------------------

function stat (v, l) { return h('div', { class: 'stat' }, h('div', { class: 'v' }, String(v)), h('div', { class: 'l' }, l)) }
function drawNetwork () {
  clear($('network'), S.network.length ? S.network.map(n => {
    const g = n.gossip || {}; const q = n.queues || {}
    const relay = n.relay || {}
    return h('div', { class: 'card', 'data-network-instance': n.instance },
      h('h4', {}, n.instance, h('span', {}, n.private ? pill('private', 'stopped') : pill(relay.connected ? `${relay.kind}: connected` : `${relay.kind}: disconnected`, relay.connected ? 'ok' : 'down'))),
      h('div', { class: 'sub muted' }, `network ${n.network}${relay.server ? ` via ${relay.server}` : ''} · ${n.redundancy ? `redundancy ${n.redundancy}` : 'full sync'} · gossip every ${n.gossip_interval}s`),
      h('div', { class: 'stats' }, stat(n.peers.length, 'peers'), stat(g.rounds ?? 0, 'gossip rounds'), stat(`${g.fetched ?? 0} / ${g.pushed ?? 0}`, 'fetched / pushed'), stat((q.queued_ops ?? 0) + (q.unpublished_records ? ` +${q.unpublished_records}` : ''), 'publish queue')),
      n.held_entries !== null ? h('div', { class: 'muted' }, `holds ${n.held_entries} entries, ${n.held_aspects} headers`) : null,
      n.busy ? h('div', { class: 'muted' }, n.busy) : null,
      h('h3', {}, 'Peers'), n.peers.length ? h('ul', { class: 'plain' }, n.peers.map(p => h('li', {}, addr(p, { n: 12 })))) : h('div', { class: 'empty' }, 'alone in its space'),
      Object.keys(q.outboxes || {}).length ? [h('h3', {}, 'Outboxes'), h('ul', { class: 'plain' }, Object.entries(q.outboxes).map(([k, v]) => h('li', {}, `${v} ops for `, addr(k, { n: 8 }))))] : null,
      h('h3', {}, 'Recent gossip rounds'), (g.recent || []).length
        ? h('table', { class: 'grid' }, h('tbody', {}, g.recent.slice(0, 8).map(r => h('tr', {}, h('td', { class: 'muted' }, fmtTime(r.at)), h('td', {}, 'with ', addr(r.peer, { n: 6 })), h('td', {}, r.fetched || r.pushed ? pill(`repaired: ${r.fetched} fetched, ${r.pushed} pushed`, 'err') : pill('in sync', 'ok'))))))
        : h('div', { class: 'empty' }, 'none yet'),
      h('h3', {}, 'Last errors'), (n.errors || []).length ? h('ul', { class: 'plain errors' }, n.errors.map(e => h('li', {}, h('span', { class: 'muted' }, fmtTime(e.at) + ' '), e.what))) : h('div', { class: 'empty' }, 'none'))
  }) : h('div', { class: 'empty' }, 'no running instances'))
}

// -- the live log -------------------------------------------------------------------------------

function onEvents (m) {
  const rows = []
  for (const c of m.calls) rows.push({ kind: 'call', at: c.at, instance: c.instance, what: `${c.zome}/${c.function}`, duration: c.duration, result: c.result, detail: c.detail })
  for (const sg of m.signals) {
    const sig = sg.signal || {}
    rows.push({ kind: 'signal', at: sg.at, instance: sg.instance, what: sig.name ? `${sg.kind}: ${sig.name}` : sg.kind, result: 'signal', detail: sig.arguments || '' })
  }
  for (const f of m.failures) rows.push({ kind: 'validation', at: f.at, instance: f.instance, what: `${f.entry_type} ${short(f.address, 6)} (${f.where})`, result: 'refused', detail: f.reason })
  rows.sort((a, b) => a.at - b.at)
  S.log.push(...rows)
  if (S.log.length > LOG_ROWS) S.log.splice(0, S.log.length - LOG_ROWS)
  if (S.tab !== 'log') { S.unseen += rows.length; $('log-count').textContent = S.unseen > 999 ? '999+' : String(S.unseen) }
  if (!S.paused) drawLog(rows.length)
}
function drawLog (fresh = 0) {
  const shown = S.log.filter(r => S.logFilter === 'all' || r.kind === S.logFilter)
  const body = $('log-body')
  clear(body, shown.slice().reverse().map((r, i) => h('tr', { class: i < fresh ? 'new' : '', 'data-kind': r.kind, 'data-what': r.what },
    h('td', { class: 'muted' }, fmtTime(r.at)), h('td', {}, r.kind), h('td', {}, r.instance),
    h('td', {}, h('div', { class: 'what' }, r.what), r.detail ? h('div', { class: 'detail' }, r.detail.length > 300 ? r.detail.slice(0, 300) + '…' : r.detail) : null),
    h('td', { class: 'mono' }, r.duration === undefined ? '' : fmtDur(r.duration)),
    h('td', {}, pill(r.result)))))
  if (!shown.length) body.append(h('tr', {}, h('td', { colspan: 6, class: 'empty' }, 'nothing yet: zome calls, signals and validation failures appear here as they happen')))
}

// -- wiring -------------------------------------------------------------------------------

function showTab (tab) {
  S.tab = tab
  for (const b of document.querySelectorAll('#tabs button')) b.classList.toggle('active', b.dataset.tab === tab)
  for (const p of document.querySelectorAll('.panel')) p.classList.toggle('active', p.id === 'panel-' + tab)
  if (tab === 'log') { S.unseen = 0; $('log-count').textContent = ''; drawLog() }
  history.replaceState(null, '', '#' + tab)
}

document.addEventListener('DOMContentLoaded', () => {
  if (location.search.includes('token=')) history.replaceState(null, '', location.pathname + location.hash) // the cookie carries it now
  for (const b of document.querySelectorAll('#tabs button')) b.addEventListener('click', () => showTab(b.dataset.tab))
  for (const b of document.querySelectorAll('#log-filters button[data-kind]')) {
    b.addEventListener('click', () => {
      S.logFilter = b.dataset.kind
      for (const x of document.querySelectorAll('#log-filters button[data-kind]')) x.classList.toggle('active', x === b)
      drawLog()
    })
  }
  $('log-pause').addEventListener('click', ev => { S.paused = !S.paused; ev.target.textContent = S.paused ? 'Resume' : 'Pause'; if (!S.paused) drawLog() })
  $('chain-newer').addEventListener('click', () => S.chain && showPage(S.chain.before + PAGE))
  $('chain-older').addEventListener('click', () => S.chain && showPage(S.chain.before - PAGE))
  $('chain-newest').addEventListener('click', () => showPage(null))
  const tab = location.hash.slice(1)
  if (['chain', 'dht', 'network', 'log'].includes(tab)) showTab(tab)
  drawLog(); drawDht()
  setInterval(() => { const u = $('uptime'); if (u && S.overview) clear(u, 'up ', h('b', {}, fmtAge(Date.now() / 1000 - S.overview.started))) }, 1000)
  connect()
})
