// One cell of e2e/browsers.sh: a real browser, in the network namespace the
// suite made for it, opens the example's page by the public name, publishes
// its fake camera and microphone and receives the suite's Go participant.
//
//   node e2e/browsers.mjs chromium|firefox udp|tcp|relay
//   node e2e/browsers.mjs webkit probe
//
// Each browser trusts the test CA the way a user's does: Chromium through
// the NSS database in $HOME/.pki/nssdb, Firefox through its profile's own
// store (cert9.db), WebKitGTK through the system bundle.  Names resolve
// through /etc/hosts (the suite mounts its own in the namespace).
//
// Environment:
//   E2E_DOOR       https://meet.dissertation-editor.com
//   E2E_ROOM       the room; E2E_IDENTITY the browser's participant
//   E2E_PROFILE    Firefox: a profile directory whose cert9.db trusts the CA
//   E2E_UDP_PORT, E2E_TCP_PORT   livekit-server's ICE/UDP and ICE/TCP ports
//   E2E_OUT        where screenshots go
//   E2E_WEBDRIVER  webkit: WebKitWebDriver's URL (http://127.0.0.1:4444)
//
// Prints "ok - ..." / "not ok - ..." per check; exit status 1 on a failure.
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { initScript, pageRtcStats } from './rtc-page.mjs';
import { env, ok, tap, waitFor, chromiumArgs } from './tap.mjs';

const door = env('E2E_DOOR', 'https://meet.dissertation-editor.com');
const out = env('E2E_OUT', 'build/e2e/screenshots');
mkdirSync(out, { recursive: true });


// Both drivers give a page with goto, evaluate and screenshot.
const launchers = {
  async chromium() {
    const profile = mkdtempSync(join(tmpdir(), 'e2e-chromium-'));
    const ctx = await chromium.launchPersistentContext(profile, {
      executablePath: env('CHROMIUM', '/usr/bin/chromium'),
      headless: true,
      args: chromiumArgs,
      viewport: { width: 1280, height: 720 },
      permissions: ['camera', 'microphone'],
    });
    await ctx.addInitScript(initScript, {});
    const page = ctx.pages()[0] || (await ctx.newPage());
    return { page, version: ctx.browser()?.version() ?? '', close: async () => {
      await ctx.close();
      rmSync(profile, { recursive: true, force: true });
    } };
  },
  async firefox() {
    const browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: env('FIREFOX', '/usr/bin/firefox-esr'),
      headless: true,
      userDataDir: env('E2E_PROFILE', ''),
      extraPrefsFirefox: {
        'media.navigator.streams.fake': true,
        'media.navigator.permission.disabled': true,
        'media.autoplay.default': 0,
        'media.autoplay.blocking_policy': 0,
      },
    });
    const page = (await browser.pages())[0] || (await browser.newPage());
    await page.setViewport({ width: 1280, height: 720 });
    await page.evaluateOnNewDocument(initScript, {});
    return { page, version: await browser.version(), close: () => browser.close() };
  },
};

// The selected pair a path must give: UDP to livekit-server's port, ICE/TCP
// to its 7881, or a relayed candidate allocated over TURN/TLS (turns:..:443).
const paths = {
  udp: (p) => p.local.type !== 'relay' && p.local.protocol === 'udp' && p.remote.port === Number(env('E2E_UDP_PORT', '7882')),
  tcp: (p) => p.local.type !== 'relay' && p.local.protocol === 'tcp' && p.remote.port === Number(env('E2E_TCP_PORT', '7881')),
  relay: (p) => p.local.type === 'relay' && (p.local.relayProtocol ? p.local.relayProtocol === 'tls' : /^turns:/.test(p.local.url || '')),
};

async function cell(name, path) {
  const tag = `${name}/${path}`;
  const room = env('E2E_ROOM', 'browsers');
  const identity = env('E2E_IDENTITY', `${name}-${path}`);
  const { page, version, close } = await launchers[name]();
  console.log(`# ${tag}: ${version}`);
  try {
    const url = `${door}/?${new URLSearchParams({ room, name: identity })}`;
    const resp = await page.goto(url, { waitUntil: 'load', timeout: 30000 });
    ok(resp && resp.status() === 200, `${tag}: the example's page from ${door} (${resp && resp.status()})`);
    const st = await waitFor(async () => {
      const s = await page.evaluate(() => document.querySelector('#status')?.getAttribute('data-status'));
      return { ok: s === 'connected' || /^(error|disconnected)/.test(s || ''), s };
    }, 30000);
    ok(st && st.s === 'connected', `${tag}: joined ${room} as ${identity} (${st && st.s})`);
    // media both ways: the peer's video decoded and its audio's energy
    // growing here, our camera encoded and our microphone sent
    let first = null;
    const rtc = await waitFor(async () => {
      const r = await page.evaluate(pageRtcStats);
      first ??= r;
      r.ok = r.framesDecoded >= 30 && r.audio.energy > first.audio.energy && r.sent.framesEncoded >= 30 && r.sent.audioBytes > 0;
      return r;
    }, 40000, 1000);
    ok(rtc.framesDecoded >= 30, `${tag}: the peer's video: ${rtc.framesDecoded} frames decoded, ${rtc.bytesReceived} bytes`);
    ok(rtc.audio.energy > first.audio.energy && rtc.audio.level > 0,
      `${tag}: the peer's audio has energy (totalAudioEnergy ${first.audio.energy.toFixed(4)} -> ${rtc.audio.energy.toFixed(4)}, audioLevel ${rtc.audio.level.toFixed(3)})`);
    ok(rtc.sent.framesEncoded >= 30 && rtc.sent.audioBytes > 0,
      `${tag}: publishing the fake camera (${rtc.sent.framesEncoded} frames encoded) and microphone (${rtc.sent.audioBytes} bytes)`);
    const kinds = rtc.pairs.map((p) => `${p.local.type}/${p.local.relayProtocol || p.local.protocol} -> ${p.remote.type}/${p.remote.protocol}:${p.remote.port}`);
    ok(rtc.pairs.length > 0 && rtc.pairs.every(paths[path]), `${tag}: every selected candidate pair is ${path}: ${kinds.join(', ') || 'none'}`);
    await page.screenshot({ path: join(out, `${name}-${path}.png`) });
  } finally {
    await close();
  }
}

// WebKitGTK over WebDriver (its own WebKitWebDriver, W3C classic): does the
// example's page load with the system's trust, and has this build WebRTC?
async function webkitProbe() {
  const wd = env('E2E_WEBDRIVER', 'http://127.0.0.1:4444');
  const call = async (method, path, body) => {
    const r = await fetch(`${wd}${path}`, { method, body: body && JSON.stringify(body) });
    return (await r.json()).value;
  };
  const args = ['--automation', '--enable-webrtc=true', '--enable-media-stream=true', '--enable-mock-capture-devices=true'];
  const s = await call('POST', '/session', { capabilities: { alwaysMatch: {
    browserName: 'MiniBrowser',
    'webkitgtk:browserOptions': { binary: env('MINIBROWSER', '/usr/lib/x86_64-linux-gnu/webkit2gtk-4.1/MiniBrowser'), args },
  } } });
  if (!ok(s && s.sessionId, `webkit: a WebKitWebDriver session (${s && (s.capabilities?.browserVersion || s.message)})`)) return null;
  const id = s.sessionId;
  try {
    await call('POST', `/session/${id}/url`, { url: `${door}/?room=probe` });
    const r = await waitFor(async () => {
      const v = await call('POST', `/session/${id}/execute/sync`, { script: `return {
        url: location.href, ok: !!document.querySelector('form.join'), pc: typeof RTCPeerConnection }`, args: [] });
      return v && { ...v, form: v.ok };
    }, 15000);
    ok(r && r.url.startsWith(door) && r.form, `webkit ${s.capabilities.browserVersion}: the example's page over TLS, the test CA trusted through the system bundle (${r && r.url})`);
    const dev = await call('POST', `/session/${id}/execute/async`, { script: `const done = arguments[0];
      navigator.mediaDevices.getUserMedia({ audio: true, video: true })
        .then((m) => done(m.getTracks().map((t) => t.kind + ':' + t.label).join(', ')), (e) => done('error ' + e));`, args: [] });
    console.log(`# webkit: getUserMedia with --enable-mock-capture-devices: ${dev}`);
    console.log(`# webkit: typeof RTCPeerConnection with --enable-webrtc=true: ${r && r.pc}`);
    return r;
  } finally {
    await call('DELETE', `/session/${id}`);
  }
}

const [name, path] = process.argv.slice(2);
try {
  if (name === 'webkit' && path === 'probe') {
    const r = await webkitProbe();
    // what e2e/browsers.sh reads: WEBRTC yes|no
    console.log(`WEBRTC ${r && r.pc === 'function' ? 'yes' : 'no'}`);
  } else if (launchers[name] && paths[path]) {
    await cell(name, path);
  } else {
    ok(false, `usage: browsers.mjs chromium|firefox udp|tcp|relay, or webkit probe (got ${name} ${path})`);
  }
} catch (e) {
  ok(false, `${name}/${path}: ${String(e.message).split('\n')[0]}`);
}
process.exit(tap.failed ? 1 : 0);
