// Seed 003's two scripts (the rate limiter, loaded with SCRIPT LOAD and run
// with EVALSHA; the Redlock unlock) through ioredis, unchanged, against a
// Keel server started for the test ($KEEL_SERVER, default bin/keel-server).
'use strict';
const { test, before, after } = require('node:test');
const assert = require('node:assert');
const Redis = require('ioredis');
const { startKeel } = require('./keel_server');

const RATE_LIMIT = `-- rate_limit.lua
local current = redis.call('GET', KEYS[1])
if current == false then
  redis.call('SET', KEYS[1], 1, 'EX', ARGV[2])
  return {1, 1}
end
current = tonumber(current)
if current >= tonumber(ARGV[1]) then
  return {current, 0}
end
return {redis.call('INCR', KEYS[1]), 1}
`;

const UNLOCK = `-- unlock.lua
if redis.call('GET', KEYS[1]) == ARGV[1] then
  return redis.call('DEL', KEYS[1])
else
  return 0
end
`;

let keel, redis;

before(async () => {
  keel = await startKeel();
  redis = new Redis({ port: keel.port, host: '127.0.0.1', maxRetriesPerRequest: 50 });
});

after(() => {
  if (redis) redis.disconnect();
  if (keel) keel.stop();
});

test('rate limiter: SCRIPT LOAD then EVALSHA', async () => {
  await redis.flushall();
  const sha = await redis.script('LOAD', RATE_LIMIT);
  assert.match(sha, /^[0-9a-f]{40}$/);
  const windowKey = 'ratelimit:user:42:minute:2024-01-15T10:30';
  const results = [];
  for (let i = 0; i < 4; i++) results.push(await redis.evalsha(sha, 1, windowKey, '3', '60'));
  assert.deepStrictEqual(results, [[1, 1], [2, 1], [3, 1], [3, 0]]);
  const ttl = await redis.ttl(windowKey);
  assert.ok(ttl > 0 && ttl <= 60);
});

test('rate limiter through defineCommand (EVALSHA with EVAL fallback)', async () => {
  await redis.script('FLUSH');
  redis.defineCommand('rateLimit', { numberOfKeys: 1, lua: RATE_LIMIT });
  assert.deepStrictEqual(await redis.rateLimit('rl:define', '2', '60'), [1, 1]);
  assert.deepStrictEqual(await redis.rateLimit('rl:define', '2', '60'), [2, 1]);
  assert.deepStrictEqual(await redis.rateLimit('rl:define', '2', '60'), [2, 0]);
});

test('Redlock unlock: only the owner releases the lock', async () => {
  await redis.set('lock:resource:42', 'owner-uuid', 'EX', 30, 'NX');
  assert.strictEqual(await redis.eval(UNLOCK, 1, 'lock:resource:42', 'not-the-owner'), 0);
  assert.strictEqual(await redis.get('lock:resource:42'), 'owner-uuid');
  assert.strictEqual(await redis.eval(UNLOCK, 1, 'lock:resource:42', 'owner-uuid'), 1);
  assert.strictEqual(await redis.exists('lock:resource:42'), 0);
});

test('script errors reach the client as errors', async () => {
  await assert.rejects(redis.eval("return redis.call('nosuchcommand')", 0), /Unknown Redis command called from script/);
  await assert.rejects(redis.evalsha('0000000000000000000000000000000000000000', 0), /NOSCRIPT/);
});
