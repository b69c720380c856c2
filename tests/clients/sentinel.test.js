// Seed 003's deployment with ioredis, unchanged: Keel servers (a master and
// two replicas, Keel's replication) behind three of Debian's redis-sentinel
// 7.0 processes; the application connects with `sentinels: [...]`,
// `name: 'mymaster'`, and reads on replicas with `role: 'slave'`. The master
// is killed: the sentinels fail over and ioredis follows the new master,
// writes succeed there, and a replica connection still reads.
'use strict';
const { test, after } = require('node:test');
const assert = require('node:assert');
const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn } = require('node:child_process');
const Redis = require('ioredis');
const { startKeel, freePort } = require('./keel_server');

const REDIS_SENTINEL = '/usr/bin/redis-sentinel';
const procs = [];
const clients = [];
after(() => {
  for (const c of clients) c.disconnect();
  for (const p of procs) p.stop();
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function waitFor(fn, timeoutMs = 60000) {
  const end = Date.now() + timeoutMs;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      if (Date.now() > end) throw e;
    }
    if (Date.now() > end) return null;
    await sleep(100);
  }
}

function direct(port) {
  const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 1, retryStrategy: (n) => (n < 100 ? 100 : null) });
  c.on('error', () => {});
  clients.push(c);
  return c;
}

async function startSentinel(masterPort) {
  const port = await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'keel-sentinel-'));
  const conf = path.join(dir, 'sentinel.conf');
  fs.writeFileSync(conf, [
    'bind 127.0.0.1', `port ${port}`, `dir ${dir}`,
    `sentinel monitor mymaster 127.0.0.1 ${masterPort} 2`,
    'sentinel down-after-milliseconds mymaster 1000',
    'sentinel failover-timeout mymaster 6000', '',
  ].join('\n'));
  const proc = spawn(REDIS_SENTINEL, [conf], { stdio: 'ignore' });
  procs.push({ stop: () => proc.kill('SIGTERM') });
  const c = direct(port);
  assert.ok(await waitFor(async () => (await c.ping()) === 'PONG', 20000), 'redis-sentinel did not start');
  return { port, client: c };
}

test('ioredis follows a failover of Keel servers under three redis-sentinels', async () => {
  const master = await startKeel(['--repl-diskless-sync-delay', '0']);
  procs.push(master);
  const replicas = [];
  for (let i = 0; i < 2; i++) {
    const r = await startKeel(['--repl-diskless-sync-delay', '0', '--replicaof', '127.0.0.1', String(master.port)]);
    procs.push(r);
    replicas.push(r);
    const rc = direct(r.port);
    assert.ok(await waitFor(async () => (await rc.info('replication')).includes('master_link_status:up'), 30000));
  }
  const sentinels = [];
  for (let i = 0; i < 3; i++) sentinels.push(await startSentinel(master.port));
  for (const s of sentinels) {
    assert.ok(await waitFor(async () => {
      const m = await s.client.call('SENTINEL', 'MASTER', 'mymaster');
      const f = {};
      for (let i = 0; i < m.length; i += 2) f[m[i]] = m[i + 1];
      return f['num-slaves'] === '2' && f['num-other-sentinels'] === '2';
    }, 30000), 'sentinels did not discover the replicas and each other');
  }

  const options = {
    sentinels: sentinels.map((s) => ({ host: '127.0.0.1', port: s.port })),
    name: 'mymaster',
    maxRetriesPerRequest: 50,
  };
  const app = new Redis(options);
  const reader = new Redis({ ...options, role: 'slave' });
  app.on('error', () => {});
  reader.on('error', () => {});
  clients.push(app, reader);
  await app.set('order:1', 'paid');
  assert.strictEqual(await waitFor(() => reader.get('order:1'), 20000), 'paid');

  master.stop();
  await master.exited;
  // ioredis asks the sentinels again on reconnect; the write goes through
  // once the failover is done.
  await waitFor(async () => {
    await app.set('order:2', 'shipped');
    return true;
  }, 60000);
  const addr = await sentinels[0].client.call('SENTINEL', 'GET-MASTER-ADDR-BY-NAME', 'mymaster');
  const newPort = Number(addr[1]);
  assert.notStrictEqual(newPort, master.port);
  assert.ok(replicas.some((r) => r.port === newPort));
  assert.ok((await app.info('server')).includes(`tcp_port:${newPort}`), 'ioredis is not on the new master');
  const promoted = direct(newPort);
  assert.strictEqual(await promoted.get('order:2'), 'shipped');
  assert.strictEqual(await promoted.get('order:1'), 'paid');
  assert.strictEqual((await promoted.call('ROLE'))[0], 'master');
  assert.strictEqual(await waitFor(() => reader.get('order:2'), 30000), 'shipped');
});
