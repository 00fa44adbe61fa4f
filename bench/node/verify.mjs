#!/usr/bin/env node
// Checks, before anything is timed, that every server does the real work:
// fetches one response from each, verifies the token with livekit-server-sdk's
// TokenVerifier and checks the claims the product needs.
//
//   node verify.mjs KEYS_FILE LIVEKIT_URL OUT_DIR NAME:METHOD:URL ...
//
// METHOD is GET (body {"token","url","room","participant"}, status 200) or
// POST (JSON token request; body {"server_url","participant_token","room_name"}, 201).
// Each body is saved as OUT_DIR/NAME-METHOD.body (server A serves D's).
// Prints one line per server: status, body and header sizes, claims; exits 1
// when any check fails.

import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { TokenVerifier } from 'livekit-server-sdk';

const [keysFile, lkUrl, outDir, ...specs] = process.argv.slice(2);
if (!keysFile || !lkUrl || !outDir || specs.length === 0) {
  console.error('usage: node verify.mjs KEYS_FILE LIVEKIT_URL OUT_DIR NAME:METHOD:URL ...');
  process.exit(2);
}
const m = fs.readFileSync(keysFile, 'utf8').match(/^\s*([^#:\s]+)\s*:\s*"?([^"\s]+)"?\s*$/m);
const [, apiKey, apiSecret] = m;

const ROOM = 'consult-42';
const IDENTITY = 'Jane';
const TTL = 6 * 3600;

function request(method, url) {
  const body = method === 'POST' ? JSON.stringify({ room_name: ROOM, participant_identity: IDENTITY }) : undefined;
  return new Promise((resolve, reject) => {
    const req = http.request(url, {
      method,
      headers: body ? { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) } : {},
      timeout: 5000,
    });
    req.on('timeout', () => req.destroy(new Error('timeout after 5 s')));
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => {
        const raw = res.rawHeaders;
        let hdrBytes = `HTTP/1.1 ${res.statusCode} ${res.statusMessage}\r\n`.length + 2;
        const names = [];
        for (let i = 0; i < raw.length; i += 2) {
          hdrBytes += raw[i].length + 2 + raw[i + 1].length + 2;
          names.push(raw[i].toLowerCase());
        }
        resolve({ status: res.statusCode, headers: res.headers, names, hdrBytes, text: Buffer.concat(chunks).toString() });
      });
    });
    req.end(body);
  });
}

let failed = 0;
const verifier = new TokenVerifier(apiKey, apiSecret);

for (const spec of specs) {
  const [name, method, ...rest] = spec.split(':');
  const url = rest.join(':');
  const problems = [];
  let line = '';
  try {
    const res = await request(method, url);
    fs.writeFileSync(path.join(outDir, `${name}-${method}.body`), res.text);
    const wantStatus = method === 'POST' ? 201 : 200;
    if (res.status !== wantStatus) problems.push(`status ${res.status}, expected ${wantStatus}: ${res.text.slice(0, 200)}`);
    if (!/^application\/json/.test(res.headers['content-type'] || '')) problems.push(`Content-Type ${res.headers['content-type']}`);
    if (!/no-store/.test(res.headers['cache-control'] || '')) problems.push(`Cache-Control ${res.headers['cache-control']}`);
    let body;
    try {
      body = JSON.parse(res.text);
    } catch {
      throw new Error(`body is not JSON: ${res.text.slice(0, 200)}`);
    }
    const keys = method === 'POST' ? ['participant_token', 'room_name', 'server_url'] : ['participant', 'room', 'token', 'url'];
    if (JSON.stringify(Object.keys(body).sort()) !== JSON.stringify(keys)) problems.push(`body keys ${Object.keys(body)}`);
    const token = method === 'POST' ? body.participant_token : body.token;
    const gotUrl = method === 'POST' ? body.server_url : body.url;
    if (gotUrl !== lkUrl) problems.push(`url ${gotUrl}, expected ${lkUrl}`);
    if (method === 'GET' && (body.room !== ROOM || body.participant !== IDENTITY)) {
      problems.push(`room/participant ${body.room}/${body.participant}`);
    }
    if (method === 'POST' && body.room_name !== ROOM) problems.push(`room_name ${body.room_name}`);
    let claims;
    try {
      claims = await verifier.verify(token);
    } catch (e) {
      throw new Error(`TokenVerifier rejected the token: ${e.code || e.name}: ${e.message}`);
    }
    const v = claims.video || {};
    if (claims.iss !== apiKey) problems.push(`iss ${claims.iss}`);
    if (claims.sub !== IDENTITY) problems.push(`sub ${claims.sub}`);
    if (claims.exp - claims.nbf !== TTL) problems.push(`exp - nbf = ${claims.exp - claims.nbf}, expected ${TTL}`);
    if (!(v.roomJoin === true && v.room === ROOM && v.canPublish === true && v.canSubscribe === true)) {
      problems.push(`video grant ${JSON.stringify(v)}`);
    }
    // livekit-server reads an absent canPublishData as canPublish (true)
    if (v.canPublishData === false) problems.push('canPublishData false');
    const extra = Object.keys(claims).filter((k) => !['iss', 'sub', 'nbf', 'exp', 'video'].includes(k));
    line =
      `status ${res.status}, body ${res.text.length} B, headers ${res.hdrBytes} B [${res.names.join(' ')}], ` +
      `token ${token.length} B, claims iss sub nbf exp video{${Object.keys(v).join(',')}}` +
      (extra.length ? ` +${extra.join(',')}` : '');
  } catch (e) {
    problems.push(e.message);
  }
  if (problems.length) {
    failed++;
    console.log(`FAIL ${name} ${method} ${url}: ${problems.join('; ')}`);
  } else {
    console.log(`ok   ${name} ${method}: ${line}`);
  }
}

process.exit(failed ? 1 : 0);
