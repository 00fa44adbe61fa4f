// What the browser drivers (e2e/browser.mjs, e2e/browsers.mjs) share: the
// environment, TAP-like checks, waiting, and Chromium's flags.

export const env = (k, d) => process.env[k] ?? d;

// ok(cond, msg): one "ok - ..." / "not ok - ..." line; tap.failed counts
export const tap = { failed: 0 };
export function ok(cond, msg) {
  console.log(`${cond ? 'ok' : 'not ok'} - ${msg}`);
  if (!cond) tap.failed++;
  return cond;
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// waitFor(fn, ms, every): fn() until it returns { ok: true, ... } or ms pass;
// the last value either way
export async function waitFor(fn, ms, every = 500) {
  const end = Date.now() + ms;
  let last;
  while (Date.now() < end) {
    last = await fn();
    if (last && last.ok) return last;
    await sleep(every);
  }
  return last;
}

// Debian's Chromium as root, headless, with fake camera and microphone and
// without its background connections (refused on a closed network)
export const chromiumArgs = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream',
  '--autoplay-policy=no-user-gesture-required',
];
