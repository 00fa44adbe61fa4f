// The page side of the browser suites (e2e/browser.mjs, e2e/browsers.mjs):
// functions that the drivers (playwright-core, puppeteer-core) serialise
// into the page, so each must be self-contained.

// Wraps RTCPeerConnection so the test can read getStats(); for icetcp, also
// keeps only livekit-server's ICE/TCP candidates and points them at nginx's
// pass-through port: the candidate a production livekit-server would
// advertise when its rtc.node_ip is the nginx host.
export function initScript({ icetcp, lkTcpPort, icetcpPort }) {
  const Orig = window.RTCPeerConnection;
  window.__pcs = [];
  const rewrite = (cand) => {
    if (!icetcp || !cand) return cand;
    const p = cand.replace(/^a=/, '').split(' ');
    if (p.length < 8) return cand;
    if (p[2].toLowerCase() !== 'tcp') return null;
    if (p[5] === String(lkTcpPort)) p[5] = String(icetcpPort);
    return (cand.startsWith('a=') ? 'a=' : '') + p.join(' ');
  };
  // icetcp: our own UDP candidates are not told to the server either, or
  // it would reach us over UDP (as a peer-reflexive candidate)
  const keepLocal = (ev) => !icetcp || !ev.candidate || !/ udp /i.test(` ${ev.candidate.candidate} `);
  const stripUdp = (d) => {
    if (!icetcp || !d || !d.sdp) return d;
    const sdp = d.sdp
      .split('\r\n')
      .filter((l) => !(l.startsWith('a=candidate:') && / udp /i.test(` ${l} `)))
      .join('\r\n');
    return new RTCSessionDescription({ type: d.type, sdp });
  };
  class PC extends Orig {
    constructor(...args) {
      super(...args);
      window.__pcs.push(this);
    }
    addEventListener(type, fn, ...rest) {
      if (type === 'icecandidate' && typeof fn === 'function') {
        const inner = fn;
        fn = (ev) => keepLocal(ev) && inner.call(this, ev);
      }
      return super.addEventListener(type, fn, ...rest);
    }
    set onicecandidate(fn) {
      super.onicecandidate = typeof fn === 'function' ? (ev) => keepLocal(ev) && fn.call(this, ev) : fn;
    }
    get onicecandidate() {
      return super.onicecandidate;
    }
    get localDescription() {
      return stripUdp(super.localDescription);
    }
    async createOffer(...args) {
      return stripUdp(await super.createOffer(...args));
    }
    async createAnswer(...args) {
      return stripUdp(await super.createAnswer(...args));
    }
    addIceCandidate(c, ...rest) {
      if (icetcp && c && c.candidate) {
        const r = rewrite(c.candidate);
        if (r === null) return Promise.resolve();
        c = { ...(typeof c.toJSON === 'function' ? c.toJSON() : c), candidate: r };
      }
      return super.addIceCandidate(c, ...rest);
    }
    setRemoteDescription(d, ...rest) {
      if (icetcp && d && d.sdp) {
        const sdp = d.sdp
          .split('\r\n')
          .map((l) => (l.startsWith('a=candidate:') ? rewrite(l) : l))
          .filter((l) => l !== null)
          .join('\r\n');
        d = { type: d.type, sdp };
      }
      return super.setRemoteDescription(d, ...rest);
    }
  }
  window.RTCPeerConnection = PC;
}

// In the page: what its peer connections say, in the fields Chromium and
// Firefox both fill in: each transport's selected candidate pair (Firefox
// also marks the pair "selected"), decoded video frames, decoded audio's
// energy (totalAudioEnergy, from the decoded samples) and what was sent.
export async function pageRtcStats() {
  const res = {
    pairs: [], framesDecoded: 0, bytesReceived: 0,
    audio: { energy: 0, level: 0, bytes: 0 }, sent: { framesEncoded: 0, audioBytes: 0 },
  };
  for (const pc of window.__pcs || []) {
    if (pc.connectionState === 'closed') continue;
    const stats = await pc.getStats();
    const byId = new Map();
    const selected = new Set();
    stats.forEach((s) => byId.set(s.id, s));
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) selected.add(s.selectedCandidatePairId);
      if (s.type === 'candidate-pair' && s.selected) selected.add(s.id);
      if (s.type === 'inbound-rtp' && s.kind === 'video') {
        res.framesDecoded += s.framesDecoded || 0;
        res.bytesReceived += s.bytesReceived || 0;
      }
      if (s.type === 'inbound-rtp' && s.kind === 'audio') {
        res.audio.energy += s.totalAudioEnergy || 0;
        res.audio.level = Math.max(res.audio.level, s.audioLevel || 0);
        res.audio.bytes += s.bytesReceived || 0;
      }
      if (s.type === 'outbound-rtp' && s.kind === 'video') res.sent.framesEncoded += s.framesEncoded || 0;
      if (s.type === 'outbound-rtp' && s.kind === 'audio') res.sent.audioBytes += s.bytesSent || 0;
    });
    for (const id of selected) {
      const pair = byId.get(id);
      if (!pair) continue;
      const l = byId.get(pair.localCandidateId) || {};
      const r = byId.get(pair.remoteCandidateId) || {};
      res.pairs.push({
        state: pair.state,
        bytesReceived: pair.bytesReceived,
        bytesSent: pair.bytesSent,
        local: { type: l.candidateType, protocol: l.protocol, relayProtocol: l.relayProtocol, url: l.url, address: l.address, port: l.port },
        remote: { type: r.candidateType, protocol: r.protocol, address: r.address, port: r.port },
      });
    }
  }
  return res;
}
