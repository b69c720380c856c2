// A Keel server for one test file: started on a free port of 127.0.0.1
// ($KEEL_SERVER, default bin/keel-server), without save points, stopped by
// stop(). Shared by the Node.js client tests.
'use strict';
const { spawn } = require('node:child_process');
const net = require('node:net');
const path = require('node:path');
const Redis = require('ioredis');

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
    s.on('error', reject);
  });
}

async function startKeel(extraArgs = []) {
  const port = await freePort();
  const bin = process.env.KEEL_SERVER || path.join(__dirname, '..', '..', 'bin', 'keel-server');
  const proc = spawn(bin, ['--port', String(port), '--save', '', ...extraArgs], { stdio: 'ignore' });
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0,
    retryStrategy: () => null });
  probe.on('error', () => {});
  let up = false;
  for (let i = 0; i < 200 && !up; i++) {
    try {
      await probe.connect();
      up = (await probe.ping()) === 'PONG';
    } catch (e) {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  probe.disconnect();
  if (!up) throw new Error('keel-server did not start');
  return { port, stop: () => proc.kill('SIGTERM') };
}

module.exports = { startKeel, freePort };
