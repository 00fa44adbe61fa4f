#!/usr/bin/env node
// The application behind the front door's webhook location, as a LiveKit
// user writes it: every POST is verified again with livekit-server-sdk's
// WebhookReceiver and recorded, one JSON line each, in OUT:
//   {"ok":true,"event":"room_started","id":"EV_...","room":"...",
//    "auth":"<Authorization>","body":"<exact body>"}
// or {"ok":false,"error":"..."}; it answers 200 either way.
//
//   node webhook-app.mjs PORT OUT KEY SECRET

import fs from 'node:fs';
import http from 'node:http';
import { WebhookReceiver } from 'livekit-server-sdk';

const [port, out, key, secret] = process.argv.slice(2);
const receiver = new WebhookReceiver(key, secret);

http
  .createServer((req, res) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks).toString('utf8');
      let rec;
      try {
        const ev = await receiver.receive(body, req.headers.authorization);
        rec = { ok: true, event: ev.event, id: ev.id, room: ev.room?.name ?? '' };
      } catch (e) {
        rec = { ok: false, error: String(e.message || e) };
      }
      rec.auth = req.headers.authorization ?? '';
      rec.body = body;
      rec.contentType = req.headers['content-type'] ?? '';
      rec.eventHeader = req.headers['x-livekit-event'] ?? '';
      fs.appendFileSync(out, JSON.stringify(rec) + '\n');
      res.writeHead(200, { 'Content-Type': 'text/plain' });
      res.end('ok\n');
    });
  })
  .listen(Number(port), '127.0.0.1', () => console.log(`webhook app on ${port}`));
