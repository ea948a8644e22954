// `npm run bench [-- --json] [-- --quick] [-- --only import,train]`
// Runs each benchmark in scripts/bench/<name>.ts (exports `run({ quick })`), one after the
// other so they do not compete for the 2 cores, and prints one JSON object with every figure.
// With several selected, each runs in a fresh process (this script with --only <name>), so
// the heap one leaves behind (a million generated deals, say) does not slow the next's GC.
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { execFileSync, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { machineTimes, stealPercent } from './bench/machineTime.ts';

const BENCHES = ['import', 'train', 'rescore', 'webhook', 'api'] as const;

const { values } = parseArgs({
  options: {
    json: { type: 'boolean', default: false },
    quick: { type: 'boolean', default: false },
    only: { type: 'string' }
  }
});

function ensureServices(): void {
  if (process.env.DATABASE_URL && process.env.REDIS_URL) return;
  const script = fileURLToPath(new URL('./services.sh', import.meta.url));
  const out = execFileSync('bash', [script, 'start'], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit']
  });
  for (const m of out.matchAll(/^export (\w+)=(.*)$/gm)) process.env[m[1]!] = m[2]!;
}

async function runHere(file: URL): Promise<Record<string, number>> {
  const mod = (await import(file.href)) as {
    run(o: { quick: boolean }): Promise<Record<string, number>>;
  };
  return mod.run({ quick: values.quick });
}

/** One benchmark in a fresh Node process with this one's flags; its figures from its stdout. */
function runInChild(name: string): Record<string, number> {
  const args = [
    ...process.execArgv,
    fileURLToPath(import.meta.url),
    '--only',
    name,
    '--json',
    ...(values.quick ? ['--quick'] : [])
  ];
  const child = spawnSync(process.execPath, args, {
    encoding: 'utf8',
    env: { ...process.env, DI_BENCH_CHILD: '1' }, // the parent logs the summary lines
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 16 * 1024 * 1024
  });
  if (child.status !== 0) {
    throw new Error(`benchmark ${name} failed (exit ${child.status ?? child.signal})`);
  }
  const line = child.stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Record<string, number>;
}

async function main(): Promise<void> {
  ensureServices();
  const selected = values.only ? values.only.split(',').map((s) => s.trim()) : [...BENCHES];
  const figures: Record<string, number | string> = {};
  const log = (msg: string) => {
    if (!process.env.DI_BENCH_CHILD) process.stderr.write(`[bench] ${msg}\n`);
  };
  log(
    `machine: ${(await import('node:os')).cpus().length} cores, node ${process.version}${values.quick ? ', quick mode' : ''}`
  );
  for (const name of selected) {
    const file = new URL(`./bench/${name}.ts`, import.meta.url);
    if (!existsSync(fileURLToPath(file))) {
      log(`${name}: no benchmark file, skipped`);
      continue;
    }
    const started = Date.now();
    log(`${name}: running`);
    const times = machineTimes();
    const result: Record<string, number> =
      selected.length > 1 ? runInChild(name) : await runHere(file);
    // Host steal over the whole benchmark (setup included): a slow run on a busy host shows.
    const steal = stealPercent(times, machineTimes());
    if (steal !== null && !process.env.DI_BENCH_CHILD) result[`${name}_cpu_steal_pct`] = steal;
    Object.assign(figures, result);
    log(`${name}: ${JSON.stringify(result)} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
  if (values.json) {
    process.stdout.write(JSON.stringify(figures) + '\n');
  } else {
    const width = Math.max(...Object.keys(figures).map((k) => k.length), 10);
    for (const [k, v] of Object.entries(figures))
      process.stdout.write(`${k.padEnd(width)}  ${v}\n`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err);
    process.exit(1);
  }
);
