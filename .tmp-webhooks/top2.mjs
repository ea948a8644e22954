import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync('.tmp-webhooks/prof/' + process.argv[2], 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
let t = p.startTime; const times = p.timeDeltas.map((d) => (t += d));
const end = p.endTime; const from = end - Number(process.argv[3]) * 1e6, to = end - Number(process.argv[4]) * 1e6;
const self = new Map(); let total = 0;
p.samples.forEach((id, i) => { if (times[i] < from || times[i] > to) return; const d = p.timeDeltas[i + 1] ?? 0; self.set(id, (self.get(id) ?? 0) + d); total += d; });
const agg = new Map(), pkg = new Map();
for (const [id, tt] of self) { const n = byId.get(id); const u = n.callFrame.url; const key = `${n.callFrame.functionName || '(anon)'} ${u.split('/node_modules/').pop().split('/work/main/').pop()}:${n.callFrame.lineNumber}`; agg.set(key, (agg.get(key) ?? 0) + tt);
  const m = /node_modules\/((@[^/]+\/)?[^/]+)/.exec(u); const k = m ? m[1] : (u.includes('/work/main/') ? u.split('/work/main/')[1] : (u || n.callFrame.functionName)); pkg.set(k, (pkg.get(k) ?? 0) + tt); }
console.log('window ms', (total / 1000).toFixed(0));
for (const [k, tt] of [...agg].sort((a, b) => b[1] - a[1]).slice(0, 30)) console.log((tt / 1000).toFixed(0).padStart(7), k.slice(0, 140));
console.log('--- by package');
for (const [k, tt] of [...pkg].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log((tt / 1000).toFixed(0).padStart(7), k);
