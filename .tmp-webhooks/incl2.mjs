import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync('.tmp-webhooks/prof/' + process.argv[2], 'utf8'));
const byId = new Map(p.nodes.map((n) => [n.id, n]));
const parent = new Map(); for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
let t = p.startTime; const times = p.timeDeltas.map((d) => (t += d));
const end = p.endTime; const from = end - Number(process.argv[3]) * 1e6, to = end - Number(process.argv[4]) * 1e6;
// inclusive by (function, file) for files matching filter
const incl = new Map(); let total = 0;
p.samples.forEach((id, i) => { if (times[i] < from || times[i] > to) return; const d = p.timeDeltas[i + 1] ?? 0; total += d;
  const seen = new Set(); let cur = id; while (cur !== undefined) { const cf = byId.get(cur).callFrame; const f = cf.url.split('/work/main/').pop(); const key = `${cf.functionName} ${f}`; if (!seen.has(key) && (f.startsWith('test/') || f.startsWith('backend/'))) { seen.add(key); incl.set(key, (incl.get(key) ?? 0) + d); } cur = parent.get(cur); } });
console.log('window', (total/1000).toFixed(0));
for (const [k, v] of [...incl].sort((a,b)=>b[1]-a[1]).slice(0, 25)) console.log((v / 1000).toFixed(0).padStart(7), k);
