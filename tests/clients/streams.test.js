// Seed 003's reliable queue with ioredis, unchanged: producers XADD to
// tasks:emails, a consumer group email-workers created with MKSTREAM,
// workers reading with XREADGROUP ... COUNT 10 BLOCK 2000 ... '>' and
// acknowledging with XACK. Two workers share the queue: every message is
// handled exactly once and nothing stays pending.
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const Redis = require('ioredis');
const { startKeel } = require('./keel_server');

let keel;
const clients = [];
const connect = () => {
  const c = new Redis({ port: keel.port, host: '127.0.0.1', maxRetriesPerRequest: 50 });
  clients.push(c);
  return c;
};

before(async () => { keel = await startKeel(); });
after(() => {
  for (const c of clients) c.disconnect();
  keel.stop();
});

async function worker(name, done, stopAt) {
  const redis = connect();
  while (done.length < stopAt) {
    const messages = await redis.xreadgroup(
      'GROUP', 'email-workers', name,
      'COUNT', 10, 'BLOCK', 2000, 'STREAMS', 'tasks:emails', '>'
    );
    if (!messages) continue;
    for (const [, entries] of messages) {
      for (const [messageId, fields] of entries) {
        done.push({ worker: name, to: fields[1], template: fields[3] });
        await redis.xack('tasks:emails', 'email-workers', messageId);
      }
    }
  }
}

test('email queue with a consumer group (seed 003)', async () => {
  const redis = connect();
  await redis.xadd('tasks:emails', '*', 'to', 'before@example.com', 'template', 'welcome');
  await redis.xgroup('CREATE', 'tasks:emails', 'email-workers', '$', 'MKSTREAM');
  const done = [];
  const total = 40;
  const workers = [worker('worker-1', done, total), worker('worker-2', done, total)];
  for (let i = 0; i < total; i++) {
    await redis.xadd('tasks:emails', '*', 'to', `user${i}@example.com`, 'template', 'welcome');
  }
  await Promise.all(workers);
  // '$' at creation: the entry added before the group is not delivered.
  assert.deepStrictEqual(done.map((d) => d.to).sort(),
    Array.from({ length: total }, (_, i) => `user${i}@example.com`).sort());
  assert.ok(done.every((d) => d.template === 'welcome'));
  const [pending] = await redis.xpending('tasks:emails', 'email-workers');
  assert.strictEqual(pending, 0);
  assert.strictEqual(await redis.xlen('tasks:emails'), total + 1);
});

test('a worker that dies leaves its messages pending; XAUTOCLAIM hands them over', async () => {
  const redis = connect();
  await redis.xgroup('CREATE', 'jobs', 'g', '0', 'MKSTREAM');
  for (let i = 0; i < 5; i++) await redis.xadd('jobs', '*', 'n', String(i));
  const got = await redis.xreadgroup('GROUP', 'g', 'crashed', 'COUNT', 5, 'STREAMS', 'jobs', '>');
  assert.strictEqual(got[0][1].length, 5);
  const [next, claimed, deleted] = await redis.xautoclaim('jobs', 'g', 'rescuer', 0, '0', 'COUNT', 10);
  assert.strictEqual(next, '0-0');
  assert.strictEqual(claimed.length, 5);
  assert.deepStrictEqual(deleted, []);
  const consumers = await redis.xinfo('CONSUMERS', 'jobs', 'g');
  const pendingOf = Object.fromEntries(consumers.map((c) => [c[1], c[3]]));
  assert.deepStrictEqual(pendingOf, { crashed: 0, rescuer: 5 });
});
