#!/usr/bin/env node
// End-to-end check of ngx_http_livekit_token_module against the official
// livekit-server-sdk TokenVerifier.
//
// Starts its own nginx (with the module loaded) on a free 127.0.0.1 port,
// fetches tokens over HTTP, verifies every one of them with
// `new TokenVerifier(apiKey, apiSecret).verify(token)` and asserts the
// decoded claims exactly.
//
// Environment:
//   NGINX_BIN       nginx binary            (default /usr/sbin/nginx)
//   LIVEKIT_MODULE  path to the module .so  (default ../../build/ngx_http_livekit_token_module.so,
//                                            relative to this script)
//   KEEP_TMP=1      keep the temporary nginx prefix directory even on success
//
// Output: one line per check, `ok N - description` or
// `not ok N - description: why`, lines starting with `#` are notes, and a
// closing `N passed, N failed` line. Exit status 1 if any check failed.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import util from 'node:util';

const here = path.dirname(fileURLToPath(import.meta.url));

let TokenVerifier;
try {
  ({ TokenVerifier } = await import('livekit-server-sdk'));
} catch (e) {
  console.log(`Bail out! cannot load livekit-server-sdk (run \`npm ci\` in ${here}): ${e.message}`);
  process.exit(1);
}

const NGINX_BIN = process.env.NGINX_BIN || '/usr/sbin/nginx';
const MODULE = path.resolve(
  process.env.LIVEKIT_MODULE || path.join(here, '../../build/ngx_http_livekit_token_module.so'),
);

const KEYS = {
  devkey: 'dEvS3cr3t0123456789abcdefghijklmnopqrstu', // 40 chars
  otherkey: 'oTh3rS3cr3tZYXWVUTSRQPONMLKJIHGFEDCBA98765',
};
const WRONG_SECRET = 'wR0ngS3cr3t0123456789abcdefghijklmnopqrs';
const LK_URL = 'ws://127.0.0.1:7880';
const DEFAULT_TTL = 6 * 3600;
const NBF_SLACK = 5; // seconds allowed between "now" and the token's nbf
const UA = 'verify-tokens/1.0 (quote " backslash \\ tag </script>)';

// ---------------------------------------------------------------- reporting

let seq = 0;
let passed = 0;
let failed = 0;
const notes = new Set();

function oneLine(s) {
  return String(s).replace(/\s*\n\s*/g, ' | ');
}

function note(msg) {
  if (!notes.has(msg)) {
    notes.add(msg);
    console.log(`# ${oneLine(msg)}`);
  }
}

async function check(description, fn) {
  const n = ++seq;
  try {
    await fn();
    passed++;
    console.log(`ok ${n} - ${description}`);
  } catch (e) {
    failed++;
    const why = e && e.message ? e.message : String(e);
    console.log(`not ok ${n} - ${description}: ${oneLine(why)}`);
  }
}

const j = (v) =>
  v === undefined ? 'undefined' : util.inspect(v, { depth: null, breakLength: Infinity, compact: true });

function fail(msg) {
  throw new Error(msg);
}

// Paths at which `a` and `e` differ, e.g. ["video.hidden: expected true, got 'true'"].
function diffPaths(a, e, at = '') {
  const isObj = (v) => v !== null && typeof v === 'object';
  if (isObj(a) && isObj(e) && Array.isArray(a) === Array.isArray(e)) {
    const out = [];
    for (const k of new Set([...Object.keys(e), ...Object.keys(a)])) {
      const p = at ? `${at}.${k}` : k;
      if (!(k in a)) out.push(`${p}: missing (expected ${j(e[k])})`);
      else if (!(k in e)) out.push(`${p}: unexpected ${j(a[k])}`);
      else out.push(...diffPaths(a[k], e[k], p));
    }
    return out;
  }
  return util.isDeepStrictEqual(a, e) ? [] : [`${at || '(value)'}: expected ${j(e)}, got ${j(a)}`];
}

function eq(actual, expected, what) {
  if (!util.isDeepStrictEqual(actual, expected)) {
    const d = diffPaths(actual, expected);
    fail(`${what}: ${d.length ? d.join('; ') : `expected ${j(expected)}, got ${j(actual)}`}`);
  }
}

function ok(cond, msg) {
  if (!cond) fail(msg);
}

// ---------------------------------------------------------------- http

async function request(method, urlPath, { headers = {}, body } = {}) {
  const res = await fetch(`${BASE}${urlPath}`, {
    method,
    headers,
    body,
    redirect: 'manual',
    signal: AbortSignal.timeout(5000),
  });
  const text = await res.text();
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

const get = (p, headers) => request('GET', p, { headers });
const postJson = (p, obj, headers = {}) =>
  request('POST', p, {
    headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof obj === 'string' ? obj : JSON.stringify(obj),
  });

function qs(params) {
  return new URLSearchParams(params).toString();
}

function ctx(res) {
  return `HTTP ${res.status} ${res.text.length > 300 ? res.text.slice(0, 300) + '...' : res.text}`;
}

function expectTokenResponse(res, status, keys) {
  eq(res.status, status, `status (${ctx(res)})`);
  const ct = res.headers.get('content-type') || '';
  ok(/^application\/json\s*(;|$)/i.test(ct), `Content-Type: expected application/json, got ${j(ct)}`);
  const cc = res.headers.get('cache-control') || '';
  ok(/(^|,)\s*no-store\s*(,|$)/i.test(cc), `Cache-Control: expected no-store, got ${j(cc)}`);
  ok(res.json && typeof res.json === 'object' && !Array.isArray(res.json), `body is not a JSON object: ${ctx(res)}`);
  eq(Object.keys(res.json).sort(), [...keys].sort(), 'body keys');
}

const JWT_RE = /eyJ[\w-]+\.[\w-]+\.[\w-]+/;

function expectError(res, wantStatus) {
  ok(res.status >= 400 && res.status < 500, `expected a 4xx error, got ${ctx(res)}`);
  if (wantStatus !== undefined && res.status !== wantStatus) {
    fail(`expected status ${wantStatus}, got ${ctx(res)}`);
  }
  ok(!JWT_RE.test(res.text), `error response contains a JWT: ${ctx(res)}`);
  const ct = res.headers.get('content-type') || '';
  ok(/^application\/json\s*(;|$)/i.test(ct), `error Content-Type: expected application/json, got ${j(ct)}`);
  ok(res.json && typeof res.json === 'object' && !Array.isArray(res.json), `error body is not a JSON object: ${ctx(res)}`);
  eq(Object.keys(res.json).sort(), ['error', 'message'], 'error body keys');
  ok(typeof res.json.error === 'string' && res.json.error.length > 0, `error.error must be a non-empty string: ${ctx(res)}`);
  ok(typeof res.json.message === 'string', `error.message must be a string: ${ctx(res)}`);
}

// ---------------------------------------------------------------- tokens

function b64urlJson(part, what) {
  ok(/^[A-Za-z0-9_-]+$/.test(part), `${what} is not unpadded base64url`);
  const buf = Buffer.from(part, 'base64url');
  let text;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
  } catch {
    fail(`${what} is not valid UTF-8`);
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    fail(`${what} is not valid JSON: ${e.message}`);
  }
}

// Verifies `token` with TokenVerifier(apiKey, secret) and returns the claims.
async function verify(token, apiKey, secret = KEYS[apiKey], tolerance) {
  ok(typeof token === 'string' && token.length > 0, `token is not a non-empty string: ${j(token)}`);
  const parts = token.split('.');
  eq(parts.length, 3, 'JWT segment count');
  const header = b64urlJson(parts[0], 'JWT header');
  eq(header.alg, 'HS256', 'JWT header alg');
  if (header.typ !== undefined) eq(header.typ, 'JWT', 'JWT header typ');
  b64urlJson(parts[1], 'JWT payload');
  try {
    return await new TokenVerifier(apiKey, secret).verify(token, tolerance);
  } catch (e) {
    fail(`TokenVerifier(${apiKey}).verify threw ${e.code || e.name}: ${e.message}`);
  }
}

async function expectVerifyFails(token, apiKey, secret, what) {
  let claims;
  try {
    claims = await new TokenVerifier(apiKey, secret).verify(token);
  } catch (e) {
    return e;
  }
  fail(`${what}: TokenVerifier accepted the token (claims ${j(claims)})`);
}

// Asserts the time claims (nbf ~ now, exp - nbf == ttl, optional iat/jti) and
// that every other claim is exactly `expected`.
function expectClaims(claims, expected, { ttl = DEFAULT_TTL } = {}) {
  const now = Math.floor(Date.now() / 1000);
  const rest = { ...claims };
  const { nbf, exp, iat, jti } = rest;
  delete rest.nbf;
  delete rest.exp;
  delete rest.iat;
  delete rest.jti;
  ok(Number.isInteger(nbf), `nbf must be an integer NumericDate, got ${j(nbf)}`);
  ok(Number.isInteger(exp), `exp must be an integer NumericDate, got ${j(exp)}`);
  ok(Math.abs(nbf - now) <= NBF_SLACK, `nbf ${nbf} is not within ${NBF_SLACK}s of now (${now})`);
  eq(exp - nbf, ttl, 'exp - nbf');
  if (iat !== undefined) {
    ok(Number.isInteger(iat) && Math.abs(iat - nbf) <= NBF_SLACK, `iat ${j(iat)} is not close to nbf ${nbf}`);
    note('module emits an iat claim (the Node SDK does not; harmless)');
  }
  if (jti !== undefined) {
    ok(typeof jti === 'string' && jti.length > 0, `jti must be a non-empty string, got ${j(jti)}`);
    note('module emits a jti claim (the Node SDK does not; harmless)');
  }
  eq(rest, expected, 'claims');
}

// the product's grants; canPublishData is written out (livekit-server reads
// an absent one as canPublish, so true keeps the product's behaviour)
const defaultVideo = (room) => ({ roomJoin: true, room, canPublish: true, canSubscribe: true, canPublishData: true });

// ---------------------------------------------------------------- nginx

function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.on('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function nginxConf(tmp, port) {
  const keysFile = path.join(tmp, 'keys.yaml');
  const common = (apiKey = 'devkey') =>
    [`livekit_keys_file ${keysFile};`, `livekit_api_key ${apiKey};`, `livekit_url ${LK_URL};`].join(
      '\n            ',
    );
  // as root, workers run as root (as Test::Nginx does): the user a binary
  // was built with (--user=nginx on nginx.org's and RHEL's) may not exist
  const user = process.getuid && process.getuid() === 0 ? 'user root;\n' : '';
  return `# generated by t/node/verify-tokens.mjs
load_module ${MODULE};

${user}daemon off;
master_process on;
worker_processes 1;
error_log ${tmp}/error.log info;
pid ${tmp}/nginx.pid;

events {
    worker_connections 64;
}

http {
    access_log ${tmp}/access.log;
    client_body_temp_path ${tmp}/client_body_temp;
    proxy_temp_path ${tmp}/proxy_temp;
    fastcgi_temp_path ${tmp}/fastcgi_temp;
    uwsgi_temp_path ${tmp}/uwsgi_temp;
    scgi_temp_path ${tmp}/scgi_temp;

    server {
        listen 127.0.0.1:${port};

        location = /token {
            livekit_token on;
            ${common()}
            livekit_token_agents *;
        }

        location = /vocab {
            livekit_token on;
            ${common()}
            livekit_token_grants roomJoin canSubscribe canSubscribeMetrics canManageAgentSession recorder ingressAdmin sip.admin sip.call agent.admin agent.createSimulation inference.perform observability.write destinationRoom=next-room;
            livekit_token_kind agent;
            livekit_token_room_preset consult;
        }

        location = /roomcfg {
            livekit_token on;
            ${common()}
            livekit_token_agents notes;
            livekit_token_room_config '{"emptyTimeout":300,"maxParticipants":3,"agents":[{"agentName":"greeter"}]}';
        }

        location = /ttl90 {
            livekit_token on;
            ${common()}
            livekit_token_ttl 90s;
        }

        location = /ttl2 {
            livekit_token on;
            ${common()}
            livekit_token_ttl 2s;
        }

        location = /otherkey {
            livekit_token on;
            ${common('otherkey')}
        }

        location = /grants {
            livekit_token on;
            ${common()}
            livekit_token_grants roomJoin canPublish canSubscribe canPublishData canUpdateOwnMetadata hidden roomAdmin roomCreate roomList roomRecord agent canPublishSources=camera,microphone;
        }

        location = /observer {
            livekit_token on;
            ${common()}
            livekit_token_grants roomJoin canSubscribe;
        }

        location = /attrs {
            livekit_token on;
            livekit_keys_file ${keysFile};
            livekit_api_key devkey;
            livekit_url wss://$http_x_tenant.lk.test/rtc;
            livekit_token_attribute plan pro;
            livekit_token_attribute user_agent $http_user_agent;
        }

        location = /pinned {
            livekit_token on;
            ${common()}
            livekit_token_identity $http_x_user;
        }

        location / {
            return 404;
        }
    }
}
`;
}

let nginx; // child process
let tmp;

function killGroup(sig) {
  if (!nginx || nginx.exitCode !== null || nginx.signalCode !== null) return;
  try {
    process.kill(-nginx.pid, sig); // nginx runs in its own process group (detached)
  } catch {
    try {
      nginx.kill(sig);
    } catch {
      /* already gone */
    }
  }
}

async function stopNginx() {
  if (!nginx || nginx.exitCode !== null || nginx.signalCode !== null) return;
  const exited = once(nginx, 'exit');
  killGroup('SIGQUIT');
  const t = await Promise.race([exited.then(() => 'exited'), sleep(5000).then(() => 'timeout')]);
  if (t === 'timeout') {
    killGroup('SIGKILL');
    await Promise.race([exited, sleep(2000)]);
  }
  // Workers of a SIGKILLed master would linger: sweep the group once more.
  try {
    process.kill(-nginx.pid, 'SIGKILL');
  } catch {
    /* group is empty */
  }
}

process.on('exit', () => killGroup('SIGKILL'));
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(sig, () => {
    killGroup('SIGKILL');
    process.exit(1);
  });
}

function tail(file, lines = 30) {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

let nginxStderr = '';

async function startNginx() {
  if (!fs.existsSync(MODULE)) {
    throw new Error(`module not found: ${MODULE} (build it first, or set LIVEKIT_MODULE)`);
  }
  if (!fs.existsSync(NGINX_BIN)) {
    throw new Error(`nginx binary not found: ${NGINX_BIN} (set NGINX_BIN)`);
  }
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lk-token-node-'));
  // nginx workers may run as an unprivileged user when we are root.
  fs.chmodSync(tmp, 0o755);
  fs.mkdirSync(path.join(tmp, 'logs'));
  fs.writeFileSync(
    path.join(tmp, 'keys.yaml'),
    Object.entries(KEYS)
      .map(([k, v]) => `${k}: ${v}\n`)
      .join(''),
    { mode: 0o644 },
  );
  const port = await freePort();
  const conf = path.join(tmp, 'nginx.conf');
  fs.writeFileSync(conf, nginxConf(tmp, port));

  nginx = spawn(NGINX_BIN, ['-p', `${tmp}/`, '-c', conf], {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  nginx.stdout.on('data', (d) => (nginxStderr += d));
  nginx.stderr.on('data', (d) => (nginxStderr += d));
  let spawnError;
  nginx.on('error', (e) => (spawnError = e));

  const deadline = Date.now() + 10000;
  for (;;) {
    if (spawnError) throw new Error(`cannot run ${NGINX_BIN}: ${spawnError.message}`);
    if (nginx.exitCode !== null || nginx.signalCode !== null) {
      throw new Error(
        `nginx exited early (${nginx.exitCode ?? nginx.signalCode}):\n${nginxStderr}${tail(path.join(tmp, 'error.log'))}`,
      );
    }
    if (await canConnect(port)) break;
    if (Date.now() > deadline) throw new Error(`nginx did not listen on 127.0.0.1:${port} within 10s`);
    await sleep(100);
  }
  return `http://127.0.0.1:${port}`;
}

// ---------------------------------------------------------------- checks

let BASE;

async function runChecks() {
  // --- GET contract -------------------------------------------------------
  let getRes;
  await check('GET /token?room=xyz&participant=Jane: 200, JSON, no-store, body keys {token,url,room,participant}', async () => {
    getRes = await get('/token?room=xyz&participant=Jane');
    expectTokenResponse(getRes, 200, ['token', 'url', 'room', 'participant']);
  });

  await check('GET /token: body url = livekit_url, room and participant echoed', async () => {
    ok(getRes && getRes.json, 'no response from previous check');
    eq(getRes.json.url, LK_URL, 'url');
    eq(getRes.json.room, 'xyz', 'room');
    eq(getRes.json.participant, 'Jane', 'participant');
  });

  await check('GET /token: TokenVerifier(devkey) accepts; claims exactly iss/sub/video, exp-nbf = 21600, nbf ~ now', async () => {
    ok(getRes && getRes.json, 'no response from previous check');
    const claims = await verify(getRes.json.token, 'devkey');
    expectClaims(claims, { iss: 'devkey', sub: 'Jane', video: defaultVideo('xyz') });
  });

  await check('GET /token: token signed with devkey is rejected by wrong secret, wrong key name, and when tampered', async () => {
    ok(getRes && getRes.json, 'no response from previous check');
    const token = getRes.json.token;
    await expectVerifyFails(token, 'devkey', WRONG_SECRET, 'wrong secret');
    await expectVerifyFails(token, 'devkey', KEYS.otherkey, "otherkey's secret");
    await expectVerifyFails(token, 'otherkey', KEYS.devkey, 'issuer otherkey');
    const [h, p, s] = token.split('.');
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString('utf8'));
    payload.sub = 'Mallory';
    const forged = `${h}.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.${s}`;
    await expectVerifyFails(forged, 'devkey', KEYS.devkey, 'tampered payload');
  });

  // --- URLSearchParams decoding ------------------------------------------
  await check('GET participant=Jane+Doe%20%C3%A9 -> sub "Jane Doe é" (+ is space, UTF-8 percent-decoding)', async () => {
    const res = await get('/token?room=xyz&participant=Jane+Doe%20%C3%A9');
    expectTokenResponse(res, 200, ['token', 'url', 'room', 'participant']);
    eq(res.json.participant, 'Jane Doe é', 'body participant');
    const claims = await verify(res.json.token, 'devkey');
    expectClaims(claims, { iss: 'devkey', sub: 'Jane Doe é', video: defaultVideo('xyz') });
  });

  await check('GET room=a&room=b&participant=p&participant=q -> first value wins', async () => {
    const res = await get('/token?room=a&room=b&participant=p&participant=q');
    expectTokenResponse(res, 200, ['token', 'url', 'room', 'participant']);
    eq(res.json.room, 'a', 'body room');
    eq(res.json.participant, 'p', 'body participant');
    const claims = await verify(res.json.token, 'devkey');
    expectClaims(claims, { iss: 'devkey', sub: 'p', video: defaultVideo('a') });
  });

  // --- POST contract ------------------------------------------------------
  const POST_KEYS = ['server_url', 'participant_token', 'room_name'];
  const POST_NAMED = [...POST_KEYS, 'participant_name'];
  const roomConfig = {
    agents: [{ agentName: 'x', metadata: '{"k":"v \\"q\\""}' }],
  };
  const postBody = {
    room_name: 'post-room',
    participant_identity: 'post-user',
    participant_name: 'Post User',
    participant_metadata: '{"role":"tester"}',
    participant_attributes: { k: 'v', other: 'value 2' },
    room_config: roomConfig,
  };
  let postRes;
  await check('POST /token (application/json, all fields): 201, JSON, no-store, body keys {server_url,participant_token,room_name,participant_name}', async () => {
    postRes = await postJson('/token', postBody);
    expectTokenResponse(postRes, 201, POST_NAMED);
    eq(postRes.json.server_url, LK_URL, 'server_url');
    eq(postRes.json.room_name, 'post-room', 'room_name');
    eq(postRes.json.participant_name, 'Post User', 'participant_name');
  });

  await check('POST /token: claims exactly iss/sub/name/metadata/attributes/roomConfig/video', async () => {
    ok(postRes && postRes.json, 'no response from previous check');
    const claims = await verify(postRes.json.participant_token, 'devkey');
    expectClaims(claims, {
      iss: 'devkey',
      sub: 'post-user',
      name: 'Post User',
      metadata: '{"role":"tester"}',
      attributes: { k: 'v', other: 'value 2' },
      roomConfig,
      video: defaultVideo('post-room'),
    });
  });

  await check('POST /token (room_name + participant_identity only): no name/metadata/attributes/roomConfig claims', async () => {
    const res = await postJson('/token', { room_name: 'r1', participant_identity: 'u1' });
    expectTokenResponse(res, 201, POST_KEYS);
    const claims = await verify(res.json.participant_token, 'devkey');
    expectClaims(claims, { iss: 'devkey', sub: 'u1', video: defaultVideo('r1') });
  });

  // --- escaping -----------------------------------------------------------
  const nasty = 'q"uo\\te</script><!-- é 中文 😀 a+b&c=d%41 \u2028';
  const nastyRoom = 'room "é" \\ 中文 😀 </script>';
  await check('GET with quotes, backslash, </script>, é, 中文, 😀 (percent-encoded UTF-8): sub and room byte-exact', async () => {
    const res = await get(`/token?${qs({ room: nastyRoom, participant: nasty })}`);
    expectTokenResponse(res, 200, ['token', 'url', 'room', 'participant']);
    eq(res.json.participant, nasty, 'body participant');
    eq(res.json.room, nastyRoom, 'body room');
    const claims = await verify(res.json.token, 'devkey');
    expectClaims(claims, { iss: 'devkey', sub: nasty, video: defaultVideo(nastyRoom) });
  });

  await check('POST with quotes, backslash, </script>, é, 中文, 😀 in every string (tab/newline in metadata): claims byte-exact', async () => {
    const md =
      JSON.stringify({ html: '</script><script>alert("x")</script>', bs: '\\', esc: '\n\t\r\b\f\u0001', u: 'é中文😀' }) +
      '\n\tline 2';
    const attrs = { [nasty]: nasty, multi: 'line 1\nline 2', emoji: '😀' };
    const body = {
      room_name: nastyRoom,
      participant_identity: nasty,
      participant_name: `name ${nasty}`,
      participant_metadata: md,
      participant_attributes: attrs,
      room_config: { agents: [{ agent_name: 'a"b\\c', metadata: md }] },
    };
    const res = await postJson('/token', body);
    expectTokenResponse(res, 201, POST_NAMED);
    const claims = await verify(res.json.participant_token, 'devkey');
    expectClaims(claims, {
      iss: 'devkey',
      sub: nasty,
      name: `name ${nasty}`,
      metadata: md,
      attributes: attrs,
      roomConfig: { agents: [{ agentName: 'a"b\\c', metadata: md }] },
      video: defaultVideo(nastyRoom),
    });
    await expectVerifyFails(res.json.participant_token, 'devkey', WRONG_SECRET, 'wrong secret');
  });

  await check('POST body with \\u escapes (\\u00e9, surrogate pair \\ud83d\\ude00, \\/) decodes to the same claims', async () => {
    const raw =
      '{"room_name":"r\\u00e9","participant_identity":"id\\ud83d\\ude00\\/x",' +
      '"participant_metadata":"tab\\u0009nl\\u000aend","participant_attributes":{"k\\u00e9":"v\\"w"}}';
    const res = await postJson('/token', raw);
    expectTokenResponse(res, 201, POST_KEYS);
    const claims = await verify(res.json.participant_token, 'devkey');
    expectClaims(claims, {
      iss: 'devkey',
      sub: 'id😀/x',
      metadata: 'tab\tnl\nend',
      attributes: { 'ké': 'v"w' },
      video: defaultVideo('ré'),
    });
  });

  await check('POST control characters (\\u0001 in metadata, \\b in name): 4xx error, or claims byte-exact', async () => {
    const body = { room_name: 'r', participant_identity: 'u', participant_name: 'a\bb', participant_metadata: 'x\u0001\u001fy' };
    const res = await postJson('/token', body);
    if (res.status >= 400 && res.status < 500) {
      expectError(res);
      note(`POST with C0 control characters is rejected: ${res.text.trim()}`);
      return;
    }
    expectTokenResponse(res, 201, POST_KEYS);
    const claims = await verify(res.json.participant_token, 'devkey');
    expectClaims(claims, { iss: 'devkey', sub: 'u', name: 'a\bb', metadata: 'x\u0001\u001fy', video: defaultVideo('r') });
  });

  await check('POST participant_metadata "nul\\u0000end": 4xx error, or metadata claim is exactly "nul\\u0000end"', async () => {
    const res = await postJson('/token', '{"room_name":"r","participant_identity":"u","participant_metadata":"nul\\u0000end"}');
    if (res.status >= 400 && res.status < 500) {
      expectError(res);
      note('POST string containing \\u0000 is rejected with a 4xx');
      return;
    }
    expectTokenResponse(res, 201, POST_KEYS);
    const claims = await verify(res.json.participant_token, 'devkey');
    expectClaims(claims, { iss: 'devkey', sub: 'u', metadata: 'nul\u0000end', video: defaultVideo('r') });
  });

  await check('GET participant=%FF (invalid UTF-8): 4xx error, or a token whose payload is valid UTF-8 JSON', async () => {
    const res = await get('/token?room=xyz&participant=a%FFb');
    if (res.status >= 400 && res.status < 500) {
      expectError(res);
      return;
    }
    expectTokenResponse(res, 200, ['token', 'url', 'room', 'participant']);
    const claims = await verify(res.json.token, 'devkey'); // checks payload UTF-8 validity
    note(`invalid UTF-8 participant accepted, sub became ${j(claims.sub)}`);
  });

  await check('GET participant=a%00b: 4xx error, or sub is exactly "a\\u0000b"', async () => {
    const res = await get('/token?room=xyz&participant=a%00b');
    if (res.status >= 400 && res.status < 500) {
      expectError(res);
      return;
    }
    expectTokenResponse(res, 200, ['token', 'url', 'room', 'participant']);
    const claims = await verify(res.json.token, 'devkey');
    eq(claims.sub, 'a\u0000b', 'sub');
  });

  // --- TTL ----------------------------------------------------------------
  await check('livekit_token_ttl 90s: exp - nbf = 90', async () => {
    const res = await get('/ttl90?room=xyz&participant=Jane');
    expectTokenResponse(res, 200, ['token', 'url', 'room', 'participant']);
    const claims = await verify(res.json.token, 'devkey');
    expectClaims(claims, { iss: 'devkey', sub: 'Jane', video: defaultVideo('xyz') }, { ttl: 90 });
  });

  await check('livekit_token_ttl 2s: TokenVerifier (clock tolerance 0) accepts now and throws ERR_JWT_EXPIRED after exp', async () => {
    const res = await get('/ttl2?room=xyz&participant=Jane');
    expectTokenResponse(res, 200, ['token', 'url', 'room', 'participant']);
    const claims = await verify(res.json.token, 'devkey', KEYS.devkey, 0);
    expectClaims(claims, { iss: 'devkey', sub: 'Jane', video: defaultVideo('xyz') }, { ttl: 2 });
    const waitMs = claims.exp * 1000 - Date.now() + 1100;
    ok(waitMs < 10000, `exp is too far in the future (${claims.exp})`);
    await sleep(Math.max(0, waitMs));
    let err;
    try {
      await new TokenVerifier('devkey', KEYS.devkey).verify(res.json.token, 0);
    } catch (e) {
      err = e;
    }
    ok(err, 'expired token was accepted');
    eq(err.code, 'ERR_JWT_EXPIRED', `error code (${err.message})`);
  });

  // --- key selection ------------------------------------------------------
  await check('livekit_api_key otherkey: iss=otherkey, verifies with otherkey secret, not with devkey secret', async () => {
    const res = await get('/otherkey?room=xyz&participant=Jane');
    expectTokenResponse(res, 200, ['token', 'url', 'room', 'participant']);
    const claims = await verify(res.json.token, 'otherkey');
    expectClaims(claims, { iss: 'otherkey', sub: 'Jane', video: defaultVideo('xyz') });
    await expectVerifyFails(res.json.token, 'otherkey', KEYS.devkey, "devkey's secret");
    await expectVerifyFails(res.json.token, 'devkey', KEYS.devkey, 'devkey');
  });

  // --- grants -------------------------------------------------------------
  await check('livekit_token_grants roomJoin canSubscribe: canPublish and canPublishData are explicit false', async () => {
    const res = await get('/observer?room=xyz&participant=Watcher');
    expectTokenResponse(res, 200, ['token', 'url', 'room', 'participant']);
    const claims = await verify(res.json.token, 'devkey');
    expectClaims(claims, {
      iss: 'devkey',
      sub: 'Watcher',
      video: { room: 'xyz', roomJoin: true, canPublish: false, canSubscribe: true, canPublishData: false },
    });
  });

  await check('livekit_token_grants (all words, canPublishSources=camera,microphone): video grant exact', async () => {
    const res = await get('/grants?room=xyz&participant=Jane');
    expectTokenResponse(res, 200, ['token', 'url', 'room', 'participant']);
    const claims = await verify(res.json.token, 'devkey');
    expectClaims(claims, {
      iss: 'devkey',
      sub: 'Jane',
      video: {
        room: 'xyz',
        roomJoin: true,
        canPublish: true,
        canSubscribe: true,
        canPublishData: true,
        canUpdateOwnMetadata: true,
        hidden: true,
        roomAdmin: true,
        roomCreate: true,
        roomList: true,
        roomRecord: true,
        agent: true,
        canPublishSources: ['camera', 'microphone'],
      },
    });
  });

  await check('the whole claim vocabulary (video, sip, agent, inference, observability, kind, roomPreset) decodes to the same grants', async () => {
    const res = await get('/vocab?room=xyz&participant=Bot');
    expectTokenResponse(res, 200, ['token', 'url', 'room', 'participant']);
    const claims = await verify(res.json.token, 'devkey');
    expectClaims(claims, {
      iss: 'devkey',
      sub: 'Bot',
      kind: 'agent',
      roomPreset: 'consult',
      video: {
        room: 'xyz',
        roomJoin: true,
        canPublish: false,
        canSubscribe: true,
        canPublishData: false,
        canSubscribeMetrics: true,
        canManageAgentSession: true,
        recorder: true,
        ingressAdmin: true,
        destinationRoom: 'next-room',
      },
      sip: { admin: true, call: true },
      agent: { admin: true, createSimulation: true },
      inference: { perform: true },
      observability: { write: true },
    });
  });

  await check('livekit_token_room_config is signed as configured, with the allowed agent a client asks for added', async () => {
    const cfg = { emptyTimeout: 300, maxParticipants: 3, agents: [{ agentName: 'greeter' }] };
    let res = await postJson('/roomcfg', { room_name: 'r', participant_identity: 'u' });
    expectTokenResponse(res, 201, POST_KEYS);
    let claims = await verify(res.json.participant_token, 'devkey');
    expectClaims(claims, { iss: 'devkey', sub: 'u', roomConfig: cfg, video: defaultVideo('r') });
    res = await postJson('/roomcfg', { room_name: 'r', participant_identity: 'u', room_config: { agents: [{ agent_name: 'notes' }] } });
    expectTokenResponse(res, 201, POST_KEYS);
    claims = await verify(res.json.participant_token, 'devkey');
    expectClaims(claims, {
      iss: 'devkey', sub: 'u', video: defaultVideo('r'),
      roomConfig: { ...cfg, agents: [{ agentName: 'greeter' }, { agentName: 'notes' }] },
    });
    res = await postJson('/roomcfg', { room_name: 'r', participant_identity: 'u', room_config: { emptyTimeout: 1 } });
    expectError(res, 403);
  });

  // --- attributes from config + complex livekit_url -----------------------
  await check('livekit_token_attribute plan pro / user_agent $http_user_agent: attributes exact; livekit_url with variable', async () => {
    const res = await get('/attrs?room=xyz&participant=Jane', { 'User-Agent': UA, 'X-Tenant': 'acme' });
    expectTokenResponse(res, 200, ['token', 'url', 'room', 'participant']);
    eq(res.json.url, 'wss://acme.lk.test/rtc', 'url');
    const claims = await verify(res.json.token, 'devkey');
    expectClaims(claims, {
      iss: 'devkey',
      sub: 'Jane',
      attributes: { plan: 'pro', user_agent: UA },
      video: defaultVideo('xyz'),
    });
  });

  // --- pinned identity ----------------------------------------------------
  await check('livekit_token_identity $http_x_user: X-User: alice -> sub alice', async () => {
    const res = await get('/pinned?room=xyz', { 'X-User': 'alice' });
    expectTokenResponse(res, 200, ['token', 'url', 'room', 'participant']);
    eq(res.json.participant, 'alice', 'body participant');
    const claims = await verify(res.json.token, 'devkey');
    expectClaims(claims, { iss: 'devkey', sub: 'alice', video: defaultVideo('xyz') });
  });

  await check('pinned identity: GET participant=Mallory with X-User: alice -> 403 JSON {error,message}, no token', async () => {
    const res = await get('/pinned?room=xyz&participant=Mallory', { 'X-User': 'alice' });
    expectError(res, 403);
  });

  await check('pinned identity: POST participant_identity=Mallory with X-User: alice -> 403 JSON {error,message}, no token', async () => {
    const res = await postJson('/pinned', { room_name: 'xyz', participant_identity: 'Mallory' }, { 'X-User': 'alice' });
    expectError(res, 403);
  });

  await check('pinned identity: no X-User header (empty identity) -> 4xx JSON error, no token', async () => {
    const res = await get('/pinned?room=xyz');
    expectError(res);
  });

  // --- error bodies -------------------------------------------------------
  await check('GET /token without participant -> 400 JSON {error,message}', async () => {
    expectError(await get('/token?room=xyz'), 400);
  });

  await check('GET /token without room -> 400 JSON {error,message}', async () => {
    expectError(await get('/token?participant=Jane'), 400);
  });

  await check('POST /token with malformed JSON -> 400 JSON {error,message}', async () => {
    expectError(await postJson('/token', '{"room_name":"x",'), 400);
  });

  await check('POST /token with participant_attributes value not a string -> 400 JSON {error,message}', async () => {
    expectError(
      await postJson('/token', { room_name: 'x', participant_identity: 'y', participant_attributes: { n: 1 } }),
      400,
    );
  });
}

// ---------------------------------------------------------------- main

let exitCode = 0;
try {
  BASE = await startNginx();
  console.log(`# nginx ${NGINX_BIN}, module ${MODULE}, ${BASE}, prefix ${tmp}`);
  await runChecks();
} catch (e) {
  failed++;
  console.log(`not ok ${++seq} - harness: ${oneLine(e.message)}`);
} finally {
  await stopNginx();
}

if (tmp && nginx) {
  await check('error.log: no [emerg]/[alert]/[crit] lines, no worker crash, clean shutdown', async () => {
    let log = '';
    try {
      log = fs.readFileSync(path.join(tmp, 'error.log'), 'utf8');
    } catch {
      /* no log is fine */
    }
    const bad = log.split('\n').filter((l) => /\[(emerg|alert|crit)\]|exited on signal/.test(l));
    ok(bad.length === 0, `${bad.length} bad line(s): ${bad.slice(0, 3).join(' || ')}`);
    ok(nginx.exitCode === 0, `nginx master did not exit cleanly (exit ${nginx.exitCode}, signal ${nginx.signalCode})`);
  });
}

if (failed > 0 && tmp) {
  const log = tail(path.join(tmp, 'error.log'), 20);
  if (log) console.log(log.replace(/^/gm, '# error.log: '));
}
console.log(`${passed} passed, ${failed} failed`);
if (failed > 0) exitCode = 1;
if (tmp && failed === 0 && process.env.KEEP_TMP !== '1') {
  fs.rmSync(tmp, { recursive: true, force: true });
} else if (tmp) {
  console.log(`# kept ${tmp}`);
}
process.exit(exitCode);
