#!/usr/bin/env python3
"""The report of bench/reloads.sh.

    reloads-report.py VARIANTS_JSONL NCPU CADDY_VERSION

One line per variant (e2e/client calls' JSON plus the shell's fields);
each variant's samples file holds "secs processes rss_kb" every second.
"""
import json
import sys

variants = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
ncpu, caddy_version = sys.argv[2:4]


def samples(v):
    try:
        return [tuple(float(x) for x in l.split()) for l in open(v['samples']) if len(l.split()) == 3]
    except FileNotFoundError:
        return []


print('# Reloads with live calls\n')
if variants:
    v0 = variants[0]
    print(f"{ncpu} cores; {v0['n']} participants in calls of two (an Opus track each way, media straight to "
          f"livekit-server, signalling through the door), {v0['reloads']} reloads {v0['every_s']} s apart, "
          f'the middle one after a certificate renewal; nginx: nginx.conf.example with [certbot] [stream] '
          f'[turn443]; Caddy: {caddy_version} + caddy-l4 as LiveKit\'s guide shapes it, `caddy reload --force`.\n')
print('| variant | joined | still receiving audio | audio gap > 0.5 s | longest gap p50 / p99 / max ms | '
      'reconnected (resumes) | longest reconnection p50 / max ms | disconnected for good | renewed cert served | '
      'door processes at most | door RSS at most MB | old workers gone after the calls |')
print('|---|---|---|---|---|---|---|---|---|---|---|---|')
for v in variants:
    s = samples(v)
    procs = max((x[1] for x in s), default=0)
    rss = max((x[2] for x in s), default=0) / 1024
    g = v.get('max_gap_ms') or [0, 0, 0]
    r = v.get('reconnect_ms') or [0, 0]
    gone = v['gone_after_s']
    gone_s = '-' if v['variant'] == 'caddy' else (f'{gone} s' if gone >= 0 else 'not within 30 s')
    print(f"| {v['variant']} | {v['joined']}/{v['n']} | {v['receiving']} | {v['gap_over_500ms']} | "
          f"{g[0]:.0f} / {g[1]:.0f} / {g[2]:.0f} | {v['reconnected']} ({v['reconnects']}) | "
          f"{r[0]:.0f} / {r[1]:.0f} | {v['disconnected']} | {'yes' if v['renewed'] else 'no'} | "
          f"{procs:.0f} (from {v['workers0']}) | {rss:.1f} | {gone_s} |")
print()
for v in variants:
    s = samples(v)
    if not s:
        continue
    # the door over time: processes and memory every 5 s
    pts = [x for x in s if int(x[0]) % 5 == 0]
    print(f"* {v['variant']}: " + ', '.join(f'{x[0]:.0f} s {x[1]:.0f}p/{x[2] / 1024:.0f} MB' for x in pts))
