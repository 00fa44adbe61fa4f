#!/usr/bin/env python3
"""The report of bench/doors.sh: three doors, one run.

    doors-report.py RUN_DIR NCPU LOAD NGINX_LIMIT_LINES CADDY_VERSION

Reads RUN_DIR/{runs,token,ramp}.jsonl; prints Markdown.  Figures are
medians over the rounds with their spread (min-max); ratios are of medians
measured in the same run.
"""
import json
import statistics
import sys

run, ncpu, load, limits, caddy_version = sys.argv[1:6]


def rows(name):
    try:
        return [json.loads(l) for l in open(f'{run}/{name}') if l.strip()]
    except FileNotFoundError:
        return []


runs, token, ramp = rows('runs.jsonl'), rows('token.jsonl'), rows('ramp.jsonl')
DOORS = ('straight', 'nginx', 'caddy')


def per_join_ms(r):
    return r['cpu_join_s'] * 1000 / max(r['joined'], 1)


def node_ms(r):
    return r['node_cpu_s'] * 1000 / max(r['joined'], 1) if r['mode'] == 'caddy' else 0.0


def rss_kb(r):
    return (r['rss_held_kb'] - r['rss_idle_kb']) / max(r['joined'], 1)


def hold_us(r):
    return r['cpu_hold_s'] * 1e6 / max(r['joined'] * r['hold_s'], 1e-9)


def pct(s, secs):
    return s * 100 / max(secs, 1e-9)


def spread(xs, fmt):
    if not xs:
        return 'n/a'
    m = statistics.median(xs)
    return fmt.format(m) + (f' ({fmt.format(min(xs))}-{fmt.format(max(xs))})' if len(xs) > 1 else '')


def med(door, f):
    xs = [f(r) for r in runs if r['mode'] == door]
    return statistics.median(xs) if xs else float('nan')


print('# Three doors to one livekit-server: straight, nginx, Caddy\n')
print(f'{ncpu} cores, load average before the report {load}; {caddy_version} with caddy-l4; '
      'nginx.conf.example with [certbot] [stream] [turn443] and worker_processes 1. '
      'Signalling-only joins (e2e/client sigload): each a new visitor, /token on a new TLS '
      "connection, the WebSocket on another, until livekit-server's JoinResponse.\n")
print('| run | door | joined | /token p50 ms | join p50 ms | join p99 ms | door CPU per join ms | '
      'token service per join ms | door RSS per held connection KB | door CPU per connection-second us | '
      'load generator CPU % | livekit-server CPU % |')
print('|---|---|---|---|---|---|---|---|---|---|---|---|')
for r in runs:
    secs = r['join_s'] + r['hold_s']
    door = r['mode'] != 'straight'
    cols = (f'{per_join_ms(r):.2f} | {node_ms(r):.2f} | {rss_kb(r):.1f} | {hold_us(r):.1f}' if door
            else '- | - | - | -')
    print(f"| {r['label']} | {r['mode']} | {r['joined']}/{r['n']} | {r['token_p50_ms']:.1f} | {r['p50_ms']:.1f} | "
          f"{r['p99_ms']:.1f} | {cols} | "
          f"{pct(r['self_cpu_s'], secs):.0f} | {pct(r['lk_cpu_s'], secs):.0f} |")
print()
doors = [d for d in DOORS if any(r['mode'] == d for r in runs)]
print('Medians over the rounds (spread min-max):\n')
print('| door | join p50 ms | join p99 ms | door CPU per join ms | + token service ms |')
print('|---|---|---|---|---|')
for d in doors:
    rs = [r for r in runs if r['mode'] == d]
    cpu = spread([per_join_ms(r) for r in rs], '{:.2f}') if d != 'straight' else '(livekit-server)'
    print(f"| {d} | {spread([r['p50_ms'] for r in rs], '{:.1f}')} | {spread([r['p99_ms'] for r in rs], '{:.1f}')} | "
          f"{cpu} | {spread([node_ms(r) for r in rs], '{:.2f}') if d == 'caddy' else '-'} |")
if {'nginx', 'caddy'} <= set(doors):
    n50, c50 = med('nginx', lambda r: r['p50_ms']), med('caddy', lambda r: r['p50_ms'])
    n99, c99 = med('nginx', lambda r: r['p99_ms']), med('caddy', lambda r: r['p99_ms'])
    ncpu_j = med('nginx', per_join_ms)
    ccpu_j = med('caddy', lambda r: per_join_ms(r) + node_ms(r))
    print(f'\n* join latency nginx / Caddy: p50 **{n50 / c50:.2f}x**, p99 **{n99 / c99:.2f}x**')
    if 'straight' in doors:
        s50 = med('straight', lambda r: r['p50_ms'])
        print(f'* join p50 over straight (which has no TLS and no /token request): nginx {n50 / s50:.2f}x, '
              f'Caddy {c50 / s50:.2f}x')
    print(f'* door CPU per join (TLS twice, /token, the upgrade): nginx {ncpu_j:.2f} ms, Caddy with its token '
          f'service {ccpu_j:.2f} ms: **{ncpu_j / ccpu_j:.2f}x**')
    print('* memory per held connection: see the ramp below (a round\'s RSS growth is small once '
          'an earlier round has grown the heap; the ramp holds more than any round)')

if token:
    print('\n## /token alone\n')
    print('wrk -t1 -c4, keep-alive (TLS handshakes not counted); Caddy through its token service:\n')
    print('| door | requests/s | CPU per request us (door + token service) |')
    print('|---|---|---|')
    for t in token:
        print(f"| {t['door']} | {t['requests'] / t['secs']:.0f} | {t['cpu_s'] * 1e6 / max(t['requests'], 1):.1f} |")
    by = {d: [t for t in token if t['door'] == d] for d in ('nginx', 'caddy')}
    if by['nginx'] and by['caddy']:
        rq = {d: statistics.median([t['requests'] / t['secs'] for t in v]) for d, v in by.items()}
        us = {d: statistics.median([t['cpu_s'] * 1e6 / max(t['requests'], 1) for t in v]) for d, v in by.items()}
        print(f"\n* nginx / Caddy+token service: **{rq['nginx'] / rq['caddy']:.2f}x** the requests per second, "
              f"**{us['nginx'] / us['caddy']:.2f}x** the CPU per request")

if ramp:
    print('\n## Held connections: the ramp\n')
    print('| door | participants | joined | failed | dropped | RSS per connection KB | CPU per connection-second us | errors |')
    print('|---|---|---|---|---|---|---|---|')
    for r in ramp:
        err = '; '.join(sorted(set(r.get('errors') or []))[:2])
        print(f"| {r['mode']} | {r['n']} | {r['joined']} | {r['failed']} | {r['dropped']} | {rss_kb(r):.1f} | "
              f"{hold_us(r):.1f} | {err} |")
    for d in ('nginx', 'caddy'):
        rs = [r for r in ramp if r['mode'] == d]
        clean = [r['n'] for r in rs if r['failed'] == 0 and r['dropped'] == 0]
        bad = next((r for r in rs if r['failed'] or r['dropped']), None)
        print(f"* {d}: held **{max(clean) if clean else 0}** with no failed join"
              + (f"; at {bad['n']}: {bad['failed']} failed, {bad['dropped']} dropped" if bad else ''))
    print(f'* nginx error log: {limits} "worker_connections are not enough" / "Too many open files" lines')
