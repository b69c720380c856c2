// Seed 003's cross-instance cache invalidation with ioredis, unchanged:
// one publisher, subscribers on 'cache:invalidate' that drop the key from
// their in-memory L1 cache. Plus ioredis's pattern subscriptions and
// keyspace notifications, against a Keel server started for the test
// ($KEEL_SERVER, default bin/keel-server).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const Redis = require('ioredis');
const { startKeel } = require('./keel_server');

let keel, port;
const clients = [];
const connect = () => {
  const c = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: 50 });
  clients.push(c);
  return c;
};

before(async () => {
  keel = await startKeel();
  port = keel.port;
});

after(async () => {
  for (const c of clients) c.disconnect();
  keel.stop();
});

function waitFor(cond, ms = 10000) {
  return new Promise((resolve, reject) => {
    const start = Date.now();
    const tick = () => {
      if (cond()) return resolve();
      if (Date.now() - start > ms) return reject(new Error('timed out waiting'));
      setTimeout(tick, 10);
    };
    tick();
  });
}

test('cache invalidation across instances (seed 003)', async () => {
  const publisher = connect();
  const instances = [0, 1, 2].map(() => {
    const localCache = new Map([['user:42:profile', { name: 'cached' }], ['user:7:profile', { name: 'kept' }]]);
    const subscriber = connect();
    subscriber.on('message', (channel, message) => {
      const { key } = JSON.parse(message);
      localCache.delete(key); // Invalider le cache mémoire local
    });
    return { subscriber, localCache };
  });
  for (const { subscriber } of instances) await subscriber.subscribe('cache:invalidate');

  const receivers = await publisher.publish('cache:invalidate', JSON.stringify({ key: 'user:42:profile' }));
  assert.strictEqual(receivers, 3);
  await waitFor(() => instances.every(({ localCache }) => !localCache.has('user:42:profile')));
  for (const { localCache } of instances) assert.ok(localCache.has('user:7:profile'));

  const [, counts] = await publisher.pubsub('NUMSUB', 'cache:invalidate').then((r) => [r[0], r[1]]);
  assert.strictEqual(Number(counts), 3);
  for (const { subscriber } of instances) await subscriber.quit();
  await publisher.quit();
});

test('pattern subscription and unsubscribe with ioredis', async () => {
  const publisher = connect();
  const subscriber = connect();
  const got = [];
  subscriber.on('pmessage', (pattern, channel, message) => got.push([pattern, channel, message]));
  await subscriber.psubscribe('cache:*');
  assert.strictEqual(await publisher.publish('cache:flush', 'all'), 1);
  await waitFor(() => got.length === 1);
  assert.deepStrictEqual(got[0], ['cache:*', 'cache:flush', 'all']);
  await subscriber.punsubscribe('cache:*');
  assert.strictEqual(await publisher.publish('cache:flush', 'again'), 0);
  // Out of subscribed mode, the same connection runs ordinary commands.
  assert.strictEqual(await subscriber.set('after', '1'), 'OK');
  await subscriber.quit();
  await publisher.quit();
});

test('keyspace notifications drive invalidation', async () => {
  const admin = connect();
  const subscriber = connect();
  await admin.config('SET', 'notify-keyspace-events', 'K$');
  const seen = [];
  subscriber.on('message', (channel, message) => seen.push([channel, message]));
  await subscriber.subscribe('__keyspace@0__:user:1');
  await admin.set('user:1', 'x');
  await waitFor(() => seen.length === 1);
  assert.deepStrictEqual(seen[0], ['__keyspace@0__:user:1', 'set']);
  await admin.config('SET', 'notify-keyspace-events', '');
  await subscriber.quit();
  await admin.quit();
});
