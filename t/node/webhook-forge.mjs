#!/usr/bin/env node
// Prints an Authorization token for a webhook body, made as livekit-server
// makes it (AccessToken with sha256 = base64 SHA-256 of the body), with
// the given key and secret and a ttl in seconds (negative: already expired).
//
//   node webhook-forge.mjs KEY SECRET TTL < body

import crypto from 'node:crypto';
import fs from 'node:fs';
import { AccessToken } from 'livekit-server-sdk';

const [key, secret, ttl] = process.argv.slice(2);
const body = fs.readFileSync(0);
const at = new AccessToken(key, secret, { ttl: Number(ttl) > 0 ? Number(ttl) : 1 });
at.sha256 = crypto.createHash('sha256').update(body).digest('base64');
let jwt = await at.toJwt();

if (Number(ttl) <= 0) {
  // re-sign with exp in the past: TokenVerifier and the module must refuse
  const [h, p] = jwt.split('.');
  const claims = JSON.parse(Buffer.from(p, 'base64url'));
  claims.nbf = claims.exp = Math.floor(Date.now() / 1000) + Number(ttl);
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  const sig = crypto.createHmac('sha256', secret).update(`${h}.${payload}`).digest('base64url');
  jwt = `${h}.${payload}.${sig}`;
}

process.stdout.write(jwt);
