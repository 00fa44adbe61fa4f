// Browser side of e2e/run.sh: Debian's Chromium (/usr/bin/chromium) driven
// by playwright-core, fake camera and microphone, opening the demo page from
// the front door by its public name.
//
//   node e2e/browser.mjs TEST...     TEST: demo endpoint twotabs form relay icetcp
//                                          sdkagent sdkbare invite
//
// Environment:
//   E2E_DOOR       https://meet.dissertation-editor.com[:port]
//   E2E_ROOM       room the headless publisher (client publish) is in
//   E2E_PUBLISHER  its identity
//   E2E_RESOLVE    Chromium --host-resolver-rules value
//   E2E_NSSDB_HOME a HOME whose .pki/nssdb trusts the test CA
//   E2E_OUT        where screenshots go
//   E2E_TABS_ROOM  twotabs: the room (default E2E_ROOM)
//   E2E_INSECURE=1 accept any certificate (a manual run against `make run`)
//   E2E_LK_TCP_PORT, E2E_ICETCP_PORT   icetcp: livekit-server's ICE/TCP
//                  port, and nginx's pass-through port that replaces it
//   E2E_AGENT_NAME sdkagent: the agent to dispatch (default note-taker)
//   E2E_INVITE_EDITOR, E2E_INVITE_CLIENT, E2E_INVITE_ROOM   invite: the two
//                  links the invitation admin made, and their room
//
// Prints "ok - ..." / "not ok - ..." per check; exit status 1 on a failure.
import { chromium } from 'playwright-core';
import { mkdtempSync, rmSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { initScript, pageRtcStats } from './rtc-page.mjs';
import { env, ok, tap, waitFor, chromiumArgs } from './tap.mjs';

const door = env('E2E_DOOR', 'https://meet.dissertation-editor.com');
const room = env('E2E_ROOM', 'e2e-browser');
const publisher = env('E2E_PUBLISHER', '');
const out = env('E2E_OUT', 'build/e2e');
mkdirSync(out, { recursive: true });


// What the page's peer connections say: selected pairs and inbound video.
async function rtcSummary(page) {
  return page.evaluate(pageRtcStats);
}

// A remote participant's <video> that is playing: has a size, not paused,
// and its currentTime advances.
async function remoteVideoPlaying(page, identity) {
  return page.evaluate(async (identity) => {
    const tiles = [...document.querySelectorAll('.lk-participant-tile')].filter(
      (t) => t.getAttribute('data-lk-local-participant') === 'false',
    );
    const pick = tiles.find((t) => !identity || (t.textContent || '').includes(identity)) || tiles[0];
    const v = pick && pick.querySelector('video');
    if (!v) return { ok: false, why: `no remote video (${tiles.length} remote tiles)` };
    const t0 = v.currentTime;
    await new Promise((r) => setTimeout(r, 1500));
    const t1 = v.currentTime;
    return {
      ok: v.videoWidth > 0 && !v.paused && t1 > t0,
      why: `videoWidth ${v.videoWidth}x${v.videoHeight} paused ${v.paused} currentTime ${t0.toFixed(2)} -> ${t1.toFixed(2)}`,
      tile: (pick.textContent || '').trim().slice(0, 60),
    };
  }, identity);
}

async function launch(opts) {
  const profile = mkdtempSync(join(tmpdir(), 'e2e-chromium-'));
  const args = [
    '--headless',
    ...chromiumArgs,
    `--host-resolver-rules=${env('E2E_RESOLVE', 'MAP meet.dissertation-editor.com 127.0.0.1')}`,
  ];

  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: env('CHROMIUM', '/usr/bin/chromium'),
    headless: true,
    args,
    env: { ...process.env, HOME: env('E2E_NSSDB_HOME', process.env.HOME) },
    viewport: { width: 1280, height: 720 },
    // only for a manual run against `make run`'s self-signed certificate
    ignoreHTTPSErrors: env('E2E_INSECURE', '0') === '1',
    permissions: ['camera', 'microphone'],
  });
  await ctx.addInitScript(initScript, opts);
  return {
    ctx,
    close: async () => {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

async function joinAndCheck(name, query, extra = {}) {
  const { ctx, close } = await launch(extra);
  const page = ctx.pages()[0] || (await ctx.newPage());
  const tokenRequests = [];
  page.on('response', (r) => {
    if (new URL(r.url()).pathname !== '/token') return;
    let body = null;
    try {
      body = r.request().postDataJSON();
    } catch {}
    tokenRequests.push({ method: r.request().method(), status: r.status(), body });
  });
  const wsUrls = [];
  page.on('websocket', (ws) => wsUrls.push(new URL(ws.url())));
  const consoleErrors = [];
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  try {
    const url = `${door}/?${new URLSearchParams({ room, name, ...query })}`;
    const resp = await page.goto(url, { waitUntil: 'load', timeout: 30000 });
    ok(resp && resp.status() === 200, `${name}: demo page ${url.replace(/\?.*/, '')} served by the front door (${resp && resp.status()})`);
    const status = await waitFor(
      async () => {
        const s = await page.locator('#status').getAttribute('data-status').catch(() => null);
        return { ok: s === 'connected' || (s || '').startsWith('error') || (s || '').startsWith('disconnected'), s };
      },
      30000,
    );
    ok(status && status.s === 'connected', `${name}: page joined ${room} (status: ${status && status.s})`);
    const playing = await waitFor(() => remoteVideoPlaying(page, publisher), 30000, 1000);
    ok(playing && playing.ok, `${name}: remote participant's video is playing (${playing && playing.why}; tile "${playing && playing.tile}")`);
    const rtc = await rtcSummary(page);
    ok(rtc.framesDecoded > 0, `${name}: WebRTC stats: ${rtc.framesDecoded} video frames decoded, ${rtc.bytesReceived} bytes`);
    const shot = join(out, `${name}.png`);
    await page.screenshot({ path: shot });
    console.log(`# ${name}: screenshot ${shot}`);
    if (consoleErrors.length) {
      const text = consoleErrors.slice(0, 5).join(' | ').replace(/eyJ[\w-]+\.[\w-]+\.[\w-]+/g, '<jwt>');
      console.log(`# ${name}: console errors: ${text.slice(0, 600)}`);
    }
    return { page, rtc, tokenRequests, ctx, wsUrls };
  } finally {
    await close();
  }
}

const tests = {
  // (c) the product's path: GET /token from the same origin, LiveKitRoom
  async demo() {
    const { tokenRequests, wsUrls } = await joinAndCheck('demo', {});
    const ws = wsUrls.find((u) => u.pathname.startsWith('/rtc'));
    ok(
      ws && ws.host === new URL(door).host && ws.searchParams.has('access_token'),
      `demo: signalling WebSocket ${ws ? ws.origin + ws.pathname : 'none'} on the front door, token in its query string (what the access log must not keep)`,
    );
    const get = tokenRequests.find((r) => r.method === 'GET');
    const st = get && get.status;
    ok(get && st === 200, `demo: token from GET /token on the same origin (${st})`);
  },
  // (d) livekit-client's TokenSource.endpoint('/token'): the POST contract
  async endpoint() {
    const { tokenRequests } = await joinAndCheck('endpoint', { via: 'endpoint' });
    const post = tokenRequests.find((r) => r.method === 'POST');
    const st = post && post.status;
    const body = post && post.body;
    ok(post && st === 201, `endpoint: TokenSource.endpoint POSTed to /token -> ${st} (${body ? Object.keys(body).join(',') : 'no body'})`);
  },
  // (e) relay only: media must come through turns:...:443, the SNI route
  async relay() {
    const { rtc } = await joinAndCheck('relay', { relay: '1' });
    const relayed = rtc.pairs.filter((p) => p.local.type === 'relay');
    ok(
      rtc.pairs.length > 0 && relayed.length === rtc.pairs.length && relayed.every((p) => p.local.relayProtocol === 'tls'),
      `relay: every selected pair is relay over TLS: ${JSON.stringify(rtc.pairs.map((p) => [p.local.type, p.local.relayProtocol, p.local.url]))}`,
    );
  },
  // (f) ICE/TCP only, through nginx's layer-4 pass-through
  async icetcp() {
    const port = Number(env('E2E_ICETCP_PORT', '7881'));
    const { rtc } = await joinAndCheck('icetcp', {}, {
      icetcp: true,
      lkTcpPort: env('E2E_LK_TCP_PORT', '7881'),
      icetcpPort: String(port),
    });
    ok(
      rtc.pairs.length > 0 && rtc.pairs.every((p) => p.remote.protocol === 'tcp' && p.remote.port === port),
      `icetcp: every selected pair is ICE/TCP to nginx's port ${port}: ${JSON.stringify(rtc.pairs)}`,
    );
  },
};

// the same URL in two tabs: each sees the other (what `make run` promises)
tests.twotabs = async () => {
  const { ctx, close } = await launch({});
  try {
    const url = `${door}/?${new URLSearchParams({ room: env('E2E_TABS_ROOM', room), name: 'guest' })}`;
    const pages = [ctx.pages()[0] || (await ctx.newPage()), await ctx.newPage()];
    for (const p of pages) await p.goto(url, { waitUntil: 'load', timeout: 30000 });
    for (const [i, p] of pages.entries()) {
      const r = await waitFor(() => remoteVideoPlaying(p, 'guest'), 30000, 1000);
      ok(r && r.ok, `twotabs: tab ${i + 1} of ${url} sees the other tab's camera (${r && r.why}; tile "${r && r.tile}")`);
    }
    await pages[0].screenshot({ path: join(out, 'twotabs.png') });
  } finally {
    await close();
  }
};

// the claims of a token, read without checking (the server checks)
const claimsOf = (t) => JSON.parse(Buffer.from(String(t).split('.')[1] || '', 'base64url').toString() || '{}');

// (j) an editor and a client, each by the link the invitation admin made,
// in two tabs: each page asks /token once with its invitation only, gets
// its role's grants, joins and sees the other's camera
tests.invite = async () => {
  const links = { editor: env('E2E_INVITE_EDITOR', ''), client: env('E2E_INVITE_CLIENT', '') };
  const iroom = env('E2E_INVITE_ROOM', '');
  const { ctx, close } = await launch({});
  try {
    const pages = { editor: ctx.pages()[0] || (await ctx.newPage()), client: await ctx.newPage() };
    const seen = { editor: [], client: [] };
    for (const [who, page] of Object.entries(pages)) {
      page.on('response', async (r) => {
        const u = new URL(r.url());
        if (u.pathname !== '/token') return;
        const body = await r.json().catch(() => ({}));
        seen[who].push({ status: r.status(), args: [...u.searchParams.keys()], claims: claimsOf(body.token), body });
      });
      await page.goto(links[who], { waitUntil: 'load', timeout: 30000 });
    }
    for (const [who, page] of Object.entries(pages)) {
      const st = await waitFor(async () => {
        const s = await page.locator('#status').getAttribute('data-status').catch(() => null);
        return { ok: s === 'connected' || (s || '').startsWith('error'), s };
      }, 30000);
      ok(st && st.s === 'connected', `invite: the ${who}'s link joined (status: ${st && st.s})`);
    }
    const e = seen.editor[0] || {};
    const c = seen.client[0] || {};
    ok(seen.editor.length === 1 && seen.client.length === 1 && e.args.join() === 'invite' && c.args.join() === 'invite',
       `invite: each page asked /token once, with ?invite= only (${seen.editor.length}, ${seen.client.length}; ${e.args} / ${c.args})`);
    ok(e.status === 200 && e.claims.sub === 'dr-smith' && e.claims.name === 'Dr Smith' && e.claims.video?.room === iroom
       && e.claims.video?.roomAdmin === true && typeof e.claims.inv === 'string',
       `invite: the editor's token: ${e.status}, sub ${e.claims?.sub}, room ${e.claims?.video?.room}, roomAdmin ${e.claims?.video?.roomAdmin}, inv ${e.claims?.inv ? 'set' : 'none'}`);
    ok(c.status === 200 && /^client-[\w-]{12}$/.test(c.claims.sub || '') && c.claims.name === 'Jane' && c.claims.video?.room === iroom
       && !c.claims.video?.roomAdmin && c.claims.video?.canPublish === true,
       `invite: the client's token: ${c.status}, sub ${c.claims?.sub}, name ${c.claims?.name}, room ${c.claims?.video?.room}, roomAdmin ${c.claims?.video?.roomAdmin ?? false}`);
    for (const [who, other] of [['editor', 'Jane'], ['client', 'Dr Smith']]) {
      const r = await waitFor(() => remoteVideoPlaying(pages[who], other), 30000, 1000);
      ok(r && r.ok, `invite: the ${who} sees ${other}'s camera (${r && r.why}; tile "${r && r.tile}")`);
    }
    await pages.client.screenshot({ path: join(out, 'invite.png') });
  } finally {
    await close();
  }
};

// room from the URL, name from the form
tests.form = async () => {
  const { ctx, close } = await launch({});
  try {
    const page = ctx.pages()[0] || (await ctx.newPage());
    await page.goto(`${door}/?${new URLSearchParams({ room })}`, { waitUntil: 'load', timeout: 30000 });
    const shown = await page.locator('form.join input[name=room]').inputValue();
    ok(shown === room, `form: /?room=${room} shows the join form with the room filled in (${shown})`);
    await page.fill('form.join input[name=name]', 'formuser');
    await page.screenshot({ path: join(out, 'form.png') });
    await page.click('form.join button[type=submit]');
    const st = await waitFor(async () => {
      const s = await page.locator('#status').getAttribute('data-status').catch(() => null);
      return { ok: s === 'connected', s };
    }, 30000);
    ok(st && st.ok && page.url().includes('name=formuser'), `form: Join connects as formuser (status ${st && st.s})`);
  } finally {
    await close();
  }
};

// (h) livekit-client's TokenSource.endpoint('/token') as an app calls it
// with nothing but an agent name (useSession with an agent), or with no
// option at all: the pinned livekit-client of e2e/package.json, imported by
// a page of the front door's origin (the demo page, its form untouched), so
// that the POST is the SDK's own, byte for byte.  The room and the identity
// are the front door's defaults, read back from the reply.
const sdkModule = new URL('./node_modules/livekit-client/dist/livekit-client.esm.mjs', import.meta.url);
const sdkVersion = JSON.parse(
  readFileSync(new URL('./node_modules/livekit-client/package.json', import.meta.url), 'utf8'),
).version;
const agentName = env('E2E_AGENT_NAME', 'note-taker');

// In the page: fetch through TokenSource.endpoint, join, watch for agents
// and their messages for up to waitMs (until one of each when wantAgent),
// then a second, independent fetch with the same options.
async function sdkSession({ options, wantAgent, waitMs }) {
  const lk = await import('/__e2e/livekit-client.mjs');
  const creds = await lk.TokenSource.endpoint('/token').fetch(options);
  const room = new lk.Room();
  const seen = { agents: [], messages: [] };
  const noteAgent = (p) => {
    if (p.kind === lk.ParticipantKind.AGENT && !seen.agents.includes(p.identity)) seen.agents.push(p.identity);
  };
  room.on(lk.RoomEvent.ParticipantConnected, noteAgent);
  room.on(lk.RoomEvent.DataReceived, (payload, p, kind, topic, encryption, senderIdentity) => {
    if (topic !== 'note-taker') return;
    seen.messages.push({ from: (p && p.identity) || senderIdentity, text: new TextDecoder().decode(payload) });
  });
  await room.connect(creds.serverUrl, creds.participantToken);
  room.remoteParticipants.forEach(noteAgent);
  const end = Date.now() + waitMs;
  while (Date.now() < end && !(wantAgent && seen.agents.length && seen.messages.length)) {
    await new Promise((r) => setTimeout(r, 200));
  }
  const out = {
    state: room.state,
    room: room.name,
    identity: room.localParticipant.identity,
    name: room.localParticipant.name,
    agents: seen.agents,
    messages: seen.messages.slice(0, 3),
  };
  await room.disconnect();
  await lk.TokenSource.endpoint('/token').fetch(options);
  return out;
}

const jwtClaims = (t) => JSON.parse(Buffer.from(String(t).split('.')[1] || '', 'base64url').toString() || 'null');

async function sdkTest(name, options, wantAgent) {
  const { ctx, close } = await launch({});
  try {
    await ctx.route('**/__e2e/livekit-client.mjs', (route) =>
      route.fulfill({ path: fileURLToPath(sdkModule), contentType: 'text/javascript' }),
    );
    const page = ctx.pages()[0] || (await ctx.newPage());
    const posts = [];
    page.on('response', (r) => {
      if (new URL(r.url()).pathname !== '/token' || r.request().method() !== 'POST') return;
      posts.push(r.json().catch(() => null).then((reply) => ({ body: r.request().postData(), status: r.status(), reply })));
    });
    const resp = await page.goto(`${door}/`, { waitUntil: 'load', timeout: 30000 });
    ok(resp && resp.status() === 200, `${name}: a page of the front door's origin (${resp && resp.status()})`);
    const res = await page.evaluate(sdkSession, { options, wantAgent, waitMs: wantAgent ? 30000 : 4000 });
    const [first, second] = await Promise.all(posts);
    const want = wantAgent ? JSON.stringify({ room_config: { agents: [{ agent_name: agentName }] } }) : '{}';
    ok(
      posts.length === 2 && first.body === want && second.body === want,
      `${name}: livekit-client ${sdkVersion} TokenSource.endpoint POSTs exactly ${want} (${first && first.body})`,
    );
    const rep = (first && first.reply) || {};
    const sub = jwtClaims(rep.participant_token)?.sub;
    ok(
      first.status === 201 && rep.server_url === door.replace(/^https:/, 'wss:') && rep.room_name && sub,
      `${name}: 201 with server_url, participant_token and the made-up room_name ${rep.room_name} (${first.status} ${rep.error || ''})`,
    );
    ok(
      res.state === 'connected' && res.room === rep.room_name && res.identity === sub,
      `${name}: joined ${res.room} (the reply's room_name) as ${res.identity} (the token's identity), state ${res.state}`,
    );
    ok(
      rep.participant_name === undefined || rep.participant_name === res.name,
      `${name}: participant_name in the reply (${rep.participant_name}) is the participant's name (${res.name})`,
    );
    const rep2 = (second && second.reply) || {};
    ok(
      second.status === 201 && rep2.room_name && rep2.room_name !== rep.room_name && jwtClaims(rep2.participant_token)?.sub !== sub,
      `${name}: a second request makes up another room (${rep2.room_name}) and identity`,
    );
    if (wantAgent) {
      ok(res.agents.length === 1, `${name}: the agent ${agentName} was dispatched and joined ${res.room}: ${JSON.stringify(res.agents)}`);
      const msgs = res.messages.map((m) => ({ from: m.from, ...JSON.parse(m.text) }));
      ok(
        msgs.length > 0 && msgs.every((m) => m.from === res.agents[0] && m.agent === agentName && m.room === res.room),
        `${name}: data message from the agent on topic note-taker: ${JSON.stringify(msgs[0] || null)}`,
      );
    } else {
      ok(res.agents.length === 0, `${name}: no agent dispatched in 4 s (${JSON.stringify(res.agents)})`);
    }
  } finally {
    await close();
  }
}

tests.sdkagent = () => sdkTest('sdkagent', { agentName }, true);
tests.sdkbare = () => sdkTest('sdkbare', {}, false);

const which = process.argv.slice(2);
for (const t of which) {
  if (!tests[t]) {
    ok(false, `unknown browser test ${t}`);
    continue;
  }
  try {
    await tests[t]();
  } catch (e) {
    ok(false, `${t}: ${e.message.split('\n')[0]}`);
  }
}
process.exit(tap.failed ? 1 : 0);
