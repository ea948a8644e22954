import { Worker } from 'node:worker_threads';
const code = `const { parentPort, workerData } = require('node:worker_threads'); const autocannon = require(workerData.p);
autocannon({ url: 'http://127.0.0.1:1', duration: 1 }, (err, result) => parentPort.postMessage({ err: String(err), keys: result && Object.keys(result), lat: result && result.latencies, req: result && result.requests }));`;
const w = new Worker(code, { eval: true, workerData: { p: import.meta.resolve('autocannon').replace(/^file:\/\//, '') } });
w.on('message', (m) => { console.log(m); w.terminate(); });
w.on('error', (e) => console.log('err', e));
