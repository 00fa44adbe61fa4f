#!/usr/bin/env node
// Server C of the bench: Node `http` + livekit-server-sdk's AccessToken,
// i.e. the code the current Lambda runs, in one process.
//
//   node server.mjs PORT KEYS_FILE URL
//
// GET /token?room=…&participant=… -> 200
//   {"token":"<jwt>","url":URL,"room":…,"participant":…}
// with Content-Type: application/json and Cache-Control: no-store, like the
// nginx module.  KEYS_FILE is the module's key file (`key: secret`, one key).

import http from 'node:http';
import fs from 'node:fs';
import { AccessToken } from 'livekit-server-sdk';

const [port, keysFile, lkUrl] = process.argv.slice(2);
if (!port || !keysFile || !lkUrl) {
  console.error('usage: node server.mjs PORT KEYS_FILE URL');
  process.exit(2);
}

const line = fs
  .readFileSync(keysFile, 'utf8')
  .split('\n')
  .find((l) => /^\s*[^#\s]/.test(l));
const m = line && line.match(/^\s*([^:\s]+)\s*:\s*"?([^"\s]+)"?\s*$/);
if (!m) {
  console.error(`server.mjs: no "key: secret" line in ${keysFile}`);
  process.exit(2);
}
const [, apiKey, apiSecret] = m;

function reply(res, status, obj) {
  const body = JSON.stringify(obj);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    'Cache-Control': 'no-store',
  });
  res.end(body);
}

const server = http.createServer(async (req, res) => {
  try {
    const u = new URL(req.url, 'http://localhost');
    if (req.method !== 'GET' || u.pathname !== '/token') {
      return reply(res, 404, { error: 'not_found', message: 'GET /token only' });
    }
    const room = u.searchParams.get('room');
    const participant = u.searchParams.get('participant');
    if (!room || !participant) {
      return reply(res, 400, { error: 'missing_parameter', message: 'room and participant are required' });
    }
    // exactly what the Lambda does
    const at = new AccessToken(apiKey, apiSecret, { identity: participant, ttl: '6h' });
    at.addGrant({ roomJoin: true, room, canPublish: true, canSubscribe: true });
    const token = await at.toJwt();
    reply(res, 200, { token, url: lkUrl, room, participant });
  } catch (e) {
    reply(res, 500, { error: 'internal', message: String(e && e.message) });
  }
});

// like nginx's keepalive: never close a busy keep-alive connection
server.keepAliveTimeout = 75000;
server.headersTimeout = 76000;
server.listen(Number(port), '127.0.0.1', () => {
  console.log(`server C (node ${process.version}, pid ${process.pid}) on 127.0.0.1:${port}`);
});

for (const sig of ['SIGTERM', 'SIGINT']) process.on(sig, () => process.exit(0));
