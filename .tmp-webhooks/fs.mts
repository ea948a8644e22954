import postgres from 'postgres';
const sql = postgres(process.env.DATABASE_URL!, { max: 1 });
await sql`create temp table t (id serial, v text)`;
for (const mode of ['on', 'off']) {
  await sql.unsafe(`set synchronous_commit = ${mode}`);
  const t = performance.now();
  for (let i = 0; i < 200; i++) await sql`insert into t (v) values ('x')`;
  console.log(mode, ((performance.now() - t) / 200).toFixed(2), 'ms per insert+commit (temp)');
}
await sql`create table if not exists fsync_probe_webhooks (id serial, v text)`;
for (const mode of ['on', 'off']) {
  await sql.unsafe(`set synchronous_commit = ${mode}`);
  const t = performance.now();
  for (let i = 0; i < 200; i++) await sql`insert into fsync_probe_webhooks (v) values ('x')`;
  console.log(mode, ((performance.now() - t) / 200).toFixed(2), 'ms per insert+commit (logged)');
}
await sql`drop table fsync_probe_webhooks`;
await sql.end();
