#!/usr/bin/env node
// A sequential keep-alive HTTP/1.1 client: exactly N requests, one at a time,
// on one keep-alive connection (a new one only when the server closes it).
// The callgrind runs need an exact request count.
//
//   node seqclient.mjs PORT PATH N [GET|POST]
//
// POST sends the JSON token request.  Exits 1 unless all N responses are 2xx.

import net from 'node:net';

const [port, urlPath, nStr, method = 'GET'] = process.argv.slice(2);
const n = Number(nStr);
const body = method === 'POST' ? JSON.stringify({ room_name: 'consult-42', participant_identity: 'Jane' }) : '';
const req = Buffer.from(
  `${method} ${urlPath} HTTP/1.1\r\nHost: 127.0.0.1\r\n` +
    (body ? `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` : '') +
    `\r\n${body}`,
);

let sock;
let buf = Buffer.alloc(0);
let done = 0;
let bad = 0;
let conns = 0;
const timer = setTimeout(() => {
  console.error(`seqclient: timeout after ${done} of ${n} responses`);
  process.exit(1);
}, 600000);

function connect() {
  conns++;
  buf = Buffer.alloc(0);
  sock = net.connect({ host: '127.0.0.1', port: Number(port) });
  sock.setNoDelay(true);
  sock.on('connect', () => (n > done ? sock.write(req) : finish()));
  sock.on('data', onData);
  sock.on('error', (e) => {
    console.error(`seqclient: ${e.message} after ${done} responses`);
    process.exit(1);
  });
}
connect();

function onData(d) {
  buf = buf.length ? Buffer.concat([buf, d]) : d;
  for (;;) {
    const end = buf.indexOf('\r\n\r\n');
    if (end < 0) return;
    const head = buf.subarray(0, end).toString('latin1');
    const cl = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!cl) {
      console.error(`seqclient: response without Content-Length: ${head.split('\r\n')[0]}`);
      process.exit(1);
    }
    const total = end + 4 + Number(cl[1]);
    if (buf.length < total) return;
    if (!/^HTTP\/1\.1 2\d\d /.test(head)) {
      bad++;
      if (bad === 1) console.error(`seqclient: ${head.split('\r\n')[0]}`);
    }
    buf = buf.subarray(total);
    if (++done === n) return finish();
    if (/\r\nconnection:\s*close/i.test(head)) {
      // the server ends keep-alive (keepalive_requests): go on on a new one
      sock.removeAllListeners();
      sock.on('error', () => {});
      sock.destroy();
      return connect();
    }
    sock.write(req);
  }
}

function finish() {
  clearTimeout(timer);
  sock.end();
  console.log(`seqclient: ${done} responses, ${bad} not 2xx, ${conns} connection(s)`);
  process.exit(bad ? 1 : 0);
}
