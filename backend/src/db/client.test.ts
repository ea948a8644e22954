import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, test } from 'node:test';
import { noDelaySocketFactory, openDatabase } from './client.ts';

const baseUrl = process.env.DATABASE_URL;

async function listen(server: Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

describe('the pool and its sockets', () => {
  const servers: Server[] = [];
  after(() => {
    for (const s of servers) s.close();
  });

  test('queries run through the pool (its sockets are opened by noDelaySocketFactory)', async () => {
    assert.ok(baseUrl, 'DATABASE_URL is set by the test runner');
    const database = openDatabase(baseUrl, { max: 2 });
    try {
      // Two statements pipelined on one reserved connection, then a plain pool query.
      const conn = await database.sql.reserve();
      const [a, b] = await Promise.all([conn`SELECT 1 AS n`, conn`SELECT 2 AS n`]);
      conn.release();
      assert.deepEqual([a[0]?.n, b[0]?.n], [1, 2]);
      const [row] = await database.sql`SELECT current_database() AS db`;
      assert.equal(row?.db, new URL(baseUrl).pathname.slice(1));
    } finally {
      await database.close();
    }
  });

  test('the factory connects to each host in turn, on its own port', async () => {
    const seen: number[] = [];
    const pair: Server[] = [];
    const ports: number[] = [];
    for (let i = 0; i < 2; i++) {
      const server = createServer((s) => {
        seen.push(i);
        s.destroy();
      });
      servers.push(server);
      pair.push(server);
      ports.push(await listen(server));
    }
    const open = noDelaySocketFactory();
    const target = { host: ['127.0.0.1', '127.0.0.1'], port: ports };
    for (let i = 0; i < 3; i++) {
      const accepted = Promise.race(pair.map((server) => once(server, 'connection')));
      const socket = open(target);
      await accepted; // one of the two servers took it (which one: `seen`)
      socket.destroy();
    }
    assert.deepEqual(seen, [0, 1, 0]);
    // The host stays on the socket, where postgres.js takes TLS's server name from.
    const socket = open({ host: ['db.example.internal'], port: [5433] }) as Socket & {
      host?: string;
    };
    socket.on('error', () => {}); // the name does not resolve here; only the field matters
    assert.equal(socket.host, 'db.example.internal');
    socket.destroy();
  });

  test('a Unix socket path (a host given as a directory) is connected to as such', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'di-client-'));
    const path = join(dir, '.s.PGSQL.5432');
    const server = createServer((s) => s.destroy());
    servers.push(server);
    server.listen(path);
    await once(server, 'listening');
    try {
      const accepted = once(server, 'connection');
      const socket = noDelaySocketFactory()({ host: [dir], port: [5432], path });
      await Promise.all([accepted, once(socket, 'connect')]);
      socket.destroy();
    } finally {
      server.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('a refused connection fails with the reason, not a hang', async () => {
    const server = createServer();
    const port = await listen(server);
    await new Promise<void>((r) => server.close(() => r())); // nothing listens there now
    const database = openDatabase(`postgres://u:p@127.0.0.1:${port}/none`, { connectTimeout: 5 });
    try {
      await assert.rejects(database.sql`SELECT 1`, { code: 'ECONNREFUSED' });
    } finally {
      await database.close();
    }
  });

  test('a server that accepts but never answers hits the connect timeout', async () => {
    const held: Socket[] = [];
    const server = createServer((s) => held.push(s)); // accepts, says nothing
    servers.push(server);
    const port = await listen(server);
    const database = openDatabase(`postgres://u:p@127.0.0.1:${port}/none`, { connectTimeout: 1 });
    try {
      await assert.rejects(database.sql`SELECT 1`, { code: 'CONNECT_TIMEOUT' });
    } finally {
      await database.close();
      for (const s of held) s.destroy();
    }
  });
});
