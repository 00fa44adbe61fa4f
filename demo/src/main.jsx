// The demo page: what the product does, from the nginx front door.
//
//   /?room=R&name=N          join R as N (token: GET /token, same origin)
//   /?invite=I               join by an invitation link: GET /token?invite=I
//                            (the room, identity, name and role are the
//                            invitation's; livekit_token_invitation)
//   /?room=R                 a form, name filled with a guest name
//   &via=endpoint            get the token with livekit-client's
//                            TokenSource.endpoint('/token') (POST contract)
//   &relay=1                 force TURN relay (iceTransportPolicy: relay)
//
// The identity is the name plus a random suffix, so that the same URL opened
// in two tabs gives two participants; the name is the display name.
import React, { useCallback, useEffect, useState } from 'react';
import { createRoot } from 'react-dom/client';
import { LiveKitRoom, VideoConference } from '@livekit/components-react';
import { TokenSource } from 'livekit-client';
import '@livekit/components-styles';
import './demo.css';

const params = new URLSearchParams(window.location.search);

function randomSuffix() {
  const a = new Uint8Array(3);
  crypto.getRandomValues(a);
  return Array.from(a, (b) => b.toString(16).padStart(2, '0')).join('');
}

async function tokenByGet(room, identity, name) {
  const q = new URLSearchParams({ room, participant: identity, name });
  const res = await fetch(`/token?${q}`, { cache: 'no-store' });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw new Error(`GET /token: ${res.status} ${body.error || ''} ${body.message || ''}`);
  }
  return { serverUrl: body.url, token: body.token };
}

// the invitation decides the room and who we are; only the link is sent
async function tokenByInvite(invite) {
  const res = await fetch(`/token?${new URLSearchParams({ invite })}`, { cache: 'no-store' });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    throw new Error(`GET /token: ${res.status} ${body.error || ''} ${body.message || ''}`);
  }
  return { serverUrl: body.url, token: body.token, room: body.room, identity: body.participant };
}

async function tokenByEndpoint(room, identity, name) {
  const source = TokenSource.endpoint('/token');
  const r = await source.fetch({ roomName: room, participantIdentity: identity, participantName: name });
  return { serverUrl: r.serverUrl, token: r.participantToken };
}

function JoinForm({ onJoin }) {
  const [room, setRoom] = useState(params.get('room') || 'demo');
  const [name, setName] = useState(params.get('name') || `guest-${randomSuffix().slice(0, 4)}`);
  return (
    <form
      className="join"
      onSubmit={(e) => {
        e.preventDefault();
        if (room && name) onJoin(room, name);
      }}
    >
      <h1>meet</h1>
      <label>
        Room <input name="room" value={room} onChange={(e) => setRoom(e.target.value)} required />
      </label>
      <label>
        Name <input name="name" value={name} onChange={(e) => setName(e.target.value)} required />
      </label>
      <button type="submit">Join</button>
    </form>
  );
}

function App() {
  const invite = params.get('invite');
  const [join, setJoin] = useState(
    invite
      ? { invite, room: 'invitation', name: '' }
      : params.get('room') && params.get('name')
        ? { room: params.get('room'), name: params.get('name') }
        : null,
  );
  const [creds, setCreds] = useState(null);
  const [shown, setShown] = useState(null);
  const [status, setStatus] = useState('idle');
  const via = params.get('via') === 'endpoint' ? 'endpoint' : 'get';
  const relay = params.get('relay') === '1';

  const onJoin = useCallback((room, name) => {
    const q = new URLSearchParams(window.location.search);
    q.set('room', room);
    q.set('name', name);
    window.history.replaceState(null, '', `?${q}`);
    setJoin({ room, name });
  }, []);

  useEffect(() => {
    if (!join) return;
    let cancelled = false;
    const identity = `${join.name}-${randomSuffix()}`;
    setStatus(join.invite ? 'fetching token (invitation)' : `fetching token (${via})`);
    (join.invite
      ? tokenByInvite(join.invite)
      : (via === 'endpoint' ? tokenByEndpoint : tokenByGet)(join.room, identity, join.name)
    )
      .then((c) => {
        if (!cancelled) {
          if (c.room) setShown({ room: c.room, name: c.identity });
          setCreds(c);
          setStatus('connecting');
        }
      })
      .catch((e) => !cancelled && setStatus(`error: ${e.message}`));
    return () => {
      cancelled = true;
    };
  }, [join, via]);

  if (!join) return <JoinForm onJoin={onJoin} />;
  return (
    <div className="page">
      <div className="status" id="status" data-status={status}>
        {(shown || join).room} · {(shown || join).name} · {status}
        {relay ? ' · relay only' : ''}
      </div>
      {creds && (
        <LiveKitRoom
          serverUrl={creds.serverUrl}
          token={creds.token}
          connect
          video
          audio
          data-lk-theme="default"
          className="room"
          connectOptions={relay ? { rtcConfig: { iceTransportPolicy: 'relay' } } : undefined}
          onConnected={() => setStatus('connected')}
          onDisconnected={(reason) => setStatus(`disconnected ${reason ?? ''}`)}
          onError={(e) => setStatus(`error: ${e.message}`)}
        >
          <VideoConference />
        </LiveKitRoom>
      )}
    </div>
  );
}

createRoot(document.getElementById('root')).render(<App />);
