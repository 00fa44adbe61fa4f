// The agent of e2e/run.sh: a real @livekit/agents worker for Node, named
// "note-taker" (the agent the front door lets clients dispatch), that
// registers with livekit-server through the front door's /agent WebSocket.
//
//   node e2e/agent/worker.mjs start
//
// Environment (read by @livekit/agents' CLI): LIVEKIT_URL (the front door,
// wss://meet.dissertation-editor.com[:port]), LIVEKIT_API_KEY,
// LIVEKIT_API_SECRET; E2E_AGENT_NAME (default note-taker), E2E_AGENT_PORT
// (the worker's health-check port on 127.0.0.1, default 8081).
//
// Each job joins its room, then sends a reliable data message on topic
// "note-taker" every second until the room is left:
//   {"agent":"note-taker","room":"<room>","metadata":"<job metadata>","n":N}
// which the participants of the e2e suite wait for.  Like a real agent it
// stays until livekit-server closes the room (its departure timeout after
// the last participant who is not an agent left); then the job ends.
import { cli, defineAgent, WorkerOptions } from '@livekit/agents';
import { RoomEvent } from '@livekit/rtc-node';
import { fileURLToPath } from 'node:url';

const agentName = process.env.E2E_AGENT_NAME || 'note-taker';

export default defineAgent({
  entry: async (ctx) => {
    await ctx.connect();
    const room = ctx.room;
    const done = new Promise((resolve) => room.on(RoomEvent.Disconnected, resolve));
    let n = 0;
    const timer = setInterval(() => {
      n++;
      const msg = JSON.stringify({ agent: agentName, room: room.name, metadata: ctx.job.metadata, n });
      room.localParticipant
        .publishData(new TextEncoder().encode(msg), { reliable: true, topic: 'note-taker' })
        .catch(() => {});
    }, 1000);
    await done;
    clearInterval(timer);
    ctx.shutdown('room closed');
  },
});

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  cli.runApp(
    new WorkerOptions({
      agent: fileURLToPath(import.meta.url),
      agentName,
      host: '127.0.0.1',
      port: Number(process.env.E2E_AGENT_PORT || 8081),
      // one warm job process, not one per core: the suite runs one job
      // at a time
      numIdleProcesses: 1,
      // Load is this worker's share of ten jobs, not the machine's CPU (the
      // default): the test machine is shared with builds, and
      // livekit-server sends no job to a worker whose load reaches its
      // target load (0.7), whatever threshold the worker itself uses.
      loadFunc: async (worker) => Math.min(worker.activeJobs.length / 10, 1),
    }),
  );
}
