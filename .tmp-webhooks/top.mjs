import { readFileSync, readdirSync } from 'node:fs';
const dir = '.tmp-webhooks/prof/';
const file = process.argv[2];
const p = JSON.parse(readFileSync(dir + file, 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const self = new Map();
const dt = p.timeDeltas; let total = 0;
p.samples.forEach((id, i) => { self.set(id, (self.get(id) ?? 0) + (dt[i] ?? 0)); total += dt[i] ?? 0; });
const agg = new Map();
for (const [id, t] of self) { const n = byId.get(id); const key = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/node_modules/').pop().split('/work/main/').pop()}:${n.callFrame.lineNumber}`; agg.set(key, (agg.get(key) ?? 0) + t); }
const top = [...agg].sort((a, b) => b[1] - a[1]).slice(0, 35);
console.log('total ms', (total / 1000).toFixed(0));
for (const [k, t] of top) console.log((t / 1000).toFixed(0).padStart(7), k.slice(0, 150));
// by package
const pkg = new Map();
for (const [id, t] of self) { const n = byId.get(id); const u = n.callFrame.url; const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(u); const k = m ? m[1] : (u.includes('/work/main/') ? u.split('/work/main/')[1].split('/').slice(0,3).join('/') : (u || n.callFrame.functionName)); pkg.set(k, (pkg.get(k) ?? 0) + t); }
console.log('--- by package');
for (const [k, t] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log((t / 1000).toFixed(0).padStart(7), k);
