#!/usr/bin/env node
// Turns the raw measurements of bench/run.sh into the Markdown report and
// the gnuplot chart.
//
//   node report.mjs WORK_DIR RESULTS_DIR STAMP
//
// Reads WORK_DIR/{results.jsonl,meta.json,verify.txt,sign_bench.txt} and
// RESULTS_DIR/callgrind/*; writes RESULTS_DIR/STAMP.md, RESULTS_DIR/latest.md,
// RESULTS_DIR/callgrind/summary.txt, WORK_DIR/chart.{dat,gp} (gnuplot writes
// WORK_DIR/chart.png).

import fs from 'node:fs';
import path from 'node:path';

const [work, results, stamp] = process.argv.slice(2);
const read = (f) => (fs.existsSync(f) ? fs.readFileSync(f, 'utf8') : null);
// paths as the lead types them: relative to the repository when inside it
const repoRoot = path.resolve(path.dirname(new URL(import.meta.url).pathname), '../..');
const shown = (f) => {
  const r = path.relative(repoRoot, path.resolve(f));
  return r.startsWith('..') ? path.resolve(f) : r;
};

const meta = JSON.parse(read(path.join(work, 'meta.json')));
const rows = read(path.join(work, 'results.jsonl'))
  .split('\n')
  .filter(Boolean)
  .map((l) => JSON.parse(l));

const median = (xs) => {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (!v.length) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m] : (v[m - 1] + v[m]) / 2;
};
const f = (x, d = 1) => (Number.isFinite(x) ? x.toFixed(d) : '–');
const int = (x) => (Number.isFinite(x) ? Math.round(x).toLocaleString('en-US') : '–');
const sgn = (x, d = 2) => (Number.isFinite(x) ? (x >= 0 ? '+' : '') + x.toFixed(d) : '–');

const cpuUs = (r) => (r.cpu_ticks * 1e6) / r.hz / r.requests;
const schedUs = (r) => r.sched_ns / 1e3 / r.requests;

const NAMES = {
  A: 'A ceiling (nginx `return 200`, static)',
  B: 'B njs (crypto.createHmac)',
  C: 'C node + livekit-server-sdk',
  D: 'D ngx_http_livekit_token_module',
  'A-post': 'A-POST ceiling (nginx `return 201`, static)',
  'D-post': 'D-POST module (JSON token request)',
};

const load = rows.filter((r) => r.phase === 'load');
const lat = rows.filter((r) => r.phase === 'latency');
const fin = Object.fromEntries(rows.filter((r) => r.phase === 'final').map((r) => [r.server, r]));
const rss = rows.filter((r) => r.phase === 'rss');
const servers = [...new Set(load.map((r) => r.server))];
const roundsN = [...new Set(load.map((r) => r.round))].sort((a, b) => a - b);
const at = (round, s) => load.find((r) => r.round === round && r.server === s);

const out = [];
const p = (s = '') => out.push(s);

p(`# LiveKit token servers: benchmark ${meta.started}`);
p();
p(
  `wrk -t1 -c${meta.conns} keep-alive, ${meta.rounds} round(s) of ${meta.seconds} s alternated ` +
    `${servers.join(' ')}, after ${meta.warmup} s warm-up each; latency: -c1, ${meta.lat_seconds} s. ` +
    `Every server is one process (nginx: the single worker is measured).` +
    (meta.quick ? ' **Quick mode (CI smoke): numbers are indicative only.**' : ''),
);
p();
p(
  `Machine: ${meta.cpu}, ${meta.nproc} cores, Linux ${meta.kernel}; load average ${meta.load_before} before, ` +
    `${meta.load_after} after the timed part (${meta.elapsed_s} s in all). nginx ${meta.nginx}, njs ${meta.njs}, ` +
    `Node ${meta.node}, livekit-server-sdk ${meta.sdk}, wrk ${meta.wrk}, ${meta.valgrind}. ` +
    `Tree ${meta.commit}${meta.src_dirty !== '0' ? ` (+${meta.src_dirty} uncommitted file(s) in src/ or config)` : ''}, ` +
    `module sha256 ${meta.module_sha256}….` +
    (meta.pin ? ' Servers pinned to CPU 1, wrk to CPU 0.' : ''),
);
p();

const others = (r) => (r.sys_busy - r.cpu_ticks) / (r.sys_total / r.nproc);
const DISTURBED = 1.15; // cores besides the server: wrk is about 1
const busy = median(
  rows.filter((r) => r.phase === 'load' && r.sys_total).map((r) => (r.sys_busy - r.cpu_ticks) / (r.sys_total / r.nproc)),
);
if (busy > 1.25) {
  p(
    `**Warning: the machine was busy.** Besides the server, ${f(busy, 2)} cores were in use during the median ` +
      `run (wrk alone is about 1): other work shared the CPUs, so req/s and latencies are depressed and noisy. ` +
      `CPU µs/request and same-round ratios suffer less; the callgrind figures not at all.`,
  );
  p();
}

// ------------------------------------------------------------ summary table
p('## Results');
p();
p(
  '| server | req/s (median) | p50 ms | p99 ms | CPU µs/req (utime+stime) | CPU µs/req (schedstat) | server busy (cores) | worker RSS MiB | D ÷ this, req/s (median of rounds) |',
);
p('|---|--:|--:|--:|--:|--:|--:|--:|--:|');
const summary = {};
for (const s of servers) {
  const rs = load.filter((r) => r.server === s);
  const x = {
    rps: median(rs.map((r) => r.rps)),
    p50: median(rs.map((r) => r.p50_us)) / 1000,
    p99: median(rs.map((r) => r.p99_us)) / 1000,
    cpu: median(rs.map(cpuUs)),
    sched: median(rs.map(schedUs)),
    rss: (fin[s.replace('-post', '')] || rs[rs.length - 1]).rss_kb / 1024,
    busy: median(rs.map((r) => (r.rps * cpuUs(r)) / 1e6)),
  };
  summary[s] = x;
  const dName = s.endsWith('-post') ? 'D-post' : 'D';
  let ratio = '';
  if (s !== dName && load.some((r) => r.server === dName)) {
    ratio = f(median(roundsN.map((n) => at(n, dName)?.rps / at(n, s)?.rps)), 3);
  }
  p(
    `| ${NAMES[s] || s} | ${int(x.rps)} | ${f(x.p50, 3)} | ${f(x.p99, 3)} | ${f(x.cpu, 2)} | ${f(x.sched, 2)} | ${f(x.busy, 2)} | ${f(x.rss, 1)} | ${ratio} |`,
  );
}
p();

// key figures
const dMinusA = roundsN.map((n) => (at(n, 'D') && at(n, 'A') ? cpuUs(at(n, 'D')) - cpuUs(at(n, 'A')) : NaN));
const dMinusAs = roundsN.map((n) => (at(n, 'D') && at(n, 'A') ? schedUs(at(n, 'D')) - schedUs(at(n, 'A')) : NaN));
const pMinusA = roundsN.map((n) =>
  at(n, 'D-post') && at(n, 'A-post') ? cpuUs(at(n, 'D-post')) - cpuUs(at(n, 'A-post')) : NaN,
);
const pMinusAs = roundsN.map((n) =>
  at(n, 'D-post') && at(n, 'A-post') ? schedUs(at(n, 'D-post')) - schedUs(at(n, 'A-post')) : NaN,
);
const target = 0.6;
const mDA = median(dMinusA);
p('### Targets');
p();
p(
  `- **D CPU − A CPU = ${sgn(mDA)} µs/request** (median of per-round differences, utime+stime; schedstat: ${sgn(median(dMinusAs))} µs). ` +
    `Target ≤ +${target} µs: **${mDA <= target ? 'met' : 'not met'}**.`,
);
if (pMinusA.some(Number.isFinite)) {
  p(`- POST: D-POST CPU − A-POST CPU = ${sgn(median(pMinusA))} µs/request (schedstat: ${sgn(median(pMinusAs))} µs).`);
}
if (fin.D && fin.A) {
  const d = (fin.D.rss_kb - fin.A.rss_kb) / 1024;
  p(
    `- Worker RSS: D ${f(fin.D.rss_kb / 1024, 1)} MiB, A ${f(fin.A.rss_kb / 1024, 1)} MiB: D − A = ${sgn(d)} MiB ` +
      `(peak VmHWM D ${f(fin.D.hwm_kb / 1024, 1)}, A ${f(fin.A.hwm_kb / 1024, 1)}). Target ≤ +1 MiB: **${d <= 1 ? 'met' : 'not met'}**.`,
  );
}
if (rss.length > 1) {
  const base = rss.find((r) => r.requests > 0) || rss[0];
  const last = rss[rss.length - 1];
  p(
    `- RSS soak: ${int(last.requests)} tokens from D, VmRSS ${int(rss[0].rss_kb)} kB at start, ` +
      `${int(base.rss_kb)} kB after the first ${int(base.requests)}, ${int(last.rss_kb)} kB at the end: ` +
      `growth after the first step ${sgn((last.rss_kb - base.rss_kb) / 1024, 2)} MiB ` +
      `(**${last.rss_kb - base.rss_kb <= 256 ? 'no growth' : 'grows'}**, tolerance 256 kB).`,
  );
}
p();

// ------------------------------------------------------------ per round
p('### Per round (same-round ratios)');
p();
const hasPost = servers.includes('D-post') && servers.includes('A-post');
p(
  '| round | A req/s | B req/s | C req/s | D req/s | D/A | D/B | D/C | D−A CPU µs |' +
    (hasPost ? ' A-POST req/s | D-POST req/s | D-POST/A-POST | D−A POST CPU µs |' : ''),
);
p('|--:|--:|--:|--:|--:|--:|--:|--:|--:|' + (hasPost ? '--:|--:|--:|--:|' : ''));
const ratios = { DA: [], DB: [], DC: [], PP: [] };
const disturbedRounds = [];
for (const n of roundsN) {
  const g = (s) => at(n, s)?.rps;
  const da = g('D') / g('A');
  const db = g('D') / g('B');
  const dc = g('D') / g('C');
  const pp = g('D-post') / g('A-post');
  ratios.DA.push(da);
  ratios.DB.push(db);
  ratios.DC.push(dc);
  ratios.PP.push(pp);
  const dist = ['A', 'B', 'D', 'A-post', 'D-post'].some((x) => at(n, x) && others(at(n, x)) > DISTURBED);
  if (dist) disturbedRounds.push(n);
  p(
    `| ${n}${dist ? ' ⚠' : ''} | ${int(g('A'))} | ${int(g('B'))} | ${int(g('C'))} | ${int(g('D'))} | ${f(da, 3)} | ${f(db, 3)} | ${f(dc, 3)} | ${sgn(dMinusA[roundsN.indexOf(n)])} |` +
      (hasPost ? ` ${int(g('A-post'))} | ${int(g('D-post'))} | ${f(pp, 3)} | ${sgn(pMinusA[roundsN.indexOf(n)])} |` : ''),
  );
}
p(
  `| **median** | | | | | **${f(median(ratios.DA), 3)}** | **${f(median(ratios.DB), 3)}** | **${f(median(ratios.DC), 3)}** | **${sgn(mDA)}** |` +
    (hasPost ? ` | | **${f(median(ratios.PP), 3)}** | **${sgn(median(pMinusA))}** |` : ''),
);
p();
if (disturbedRounds.length) {
  const clean = roundsN.filter((n) => !disturbedRounds.includes(n));
  p(
    `⚠ round(s) ${disturbedRounds.join(', ')}: in at least one run of A, B, D, A-POST or D-POST, more than ` +
      `${DISTURBED} cores besides the server were busy (wrk is about 1), i.e. other work on the machine disturbed it.` +
      (clean.length
        ? ` Over the ${clean.length} undisturbed round(s) only: D/A ${f(median(clean.map((n) => at(n, 'D')?.rps / at(n, 'A')?.rps)), 3)}, ` +
          `D−A CPU ${sgn(median(clean.map((n) => dMinusA[roundsN.indexOf(n)])))} µs` +
          (hasPost ? `, D−A POST CPU ${sgn(median(clean.map((n) => pMinusA[roundsN.indexOf(n)])))} µs.` : '.')
        : ' No round was undisturbed.'),
  );
  p();
}
p(
  'CPU µs/request per round (utime+stime ÷ requests completed; schedstat in brackets). "others" is the CPU ' +
    'used by everything but the server during the run, in cores: wrk itself is about 1; much more means ' +
    'other work on the machine disturbed that run.',
);
p();

p('| round | ' + servers.map((s) => `${s} | others`).join(' | ') + ' |');
p('|--:|' + servers.map(() => '--:|--:|').join(''));
for (const n of roundsN) {
  p(
    `| ${n} | ` +
      servers
        .map((s) => (at(n, s) ? `${f(cpuUs(at(n, s)), 2)} (${f(schedUs(at(n, s)), 2)}) | ${f(others(at(n, s)), 2)}` : '– | –'))
        .join(' | ') +
      ' |',
  );
}
p();

// ------------------------------------------------------------ latency
if (lat.length) {
  const latRounds = new Set(lat.map((r) => r.round)).size;
  p(`### Latency, one connection (wrk -t1 -c1, median of ${latRounds} round(s))`);
  p();
  p(
    'With one connection the server sleeps between requests, so these figures measure wake-up latency as ' +
      'much as the server: on this VM a run falls in one of two modes, ~55–65 µs p50 when both vCPUs idle ' +
      '(halted vCPU wake-up) or ~15–25 µs when other work keeps them awake ("others" ≳ 1 core). Ranges over ' +
      'the rounds are in brackets. Which mode a run falls in depends on other work on the machine, not on the ' +
      'server, so a difference here is only meaningful when the "others" columns agree.',
  );
  p();
  p('| server | req/s | p50 µs [min–max] | p99 µs | CPU µs/req | others (cores) |');
  p('|---|--:|--:|--:|--:|--:|');
  for (const s of [...new Set(lat.map((r) => r.server))]) {
    const rs = lat.filter((r) => r.server === s);
    const p50s = rs.map((r) => r.p50_us);
    p(
      `| ${NAMES[s] || s} | ${int(median(rs.map((r) => r.rps)))} | ${f(median(p50s))} [${f(Math.min(...p50s), 0)}–${f(Math.max(...p50s), 0)}] | ` +
        `${f(median(rs.map((r) => r.p99_us)))} | ${f(median(rs.map(cpuUs)), 2)} | ${f(median(rs.map(others)), 2)} |`,
    );
  }
  p();
}

// ------------------------------------------------------------ RSS soak
if (rss.length > 1) {
  p('### RSS soak (D worker VmRSS)');
  p();
  p('| tokens served | VmRSS kB |');
  p('|--:|--:|');
  for (const r of rss) p(`| ${int(r.requests)} | ${int(r.rss_kb)} |`);
  p();
}

// ------------------------------------------------------------ RSS by mapping
const smaps = (srv) => {
  const t = read(path.join(work, `smaps-${srv}.txt`));
  if (!t) return null;
  const m = new Map();
  let name = '';
  for (const line of t.split('\n')) {
    const h = line.match(/^[0-9a-f]+-[0-9a-f]+\s+\S+\s+\S+\s+\S+\s+\d+\s*(.*)$/);
    if (h) {
      name = h[1] ? path.basename(h[1]) : '[anon]';
      continue;
    }
    const r = line.match(/^(Rss|Private_Clean|Private_Dirty):\s+(\d+) kB/);
    if (r) {
      const e = m.get(name) || { rss: 0, priv: 0 };
      if (r[1] === 'Rss') e.rss += Number(r[2]);
      else e.priv += Number(r[2]);
      m.set(name, e);
    }
  }
  return m;
};
const smA = smaps('A');
const smD = smaps('D');
if (smA && smD) {
  p('### Worker RSS by mapping (D vs A, /proc/<worker>/smaps after the rounds)');
  p();
  p(
    'RSS counts shared library pages the worker has touched (also counted in other processes); "private" ' +
      'is Private_Clean + Private_Dirty. Mappings that differ by at least 16 kB:',
  );
  p();
  p('| mapping | A RSS kB | D RSS kB | D − A kB | D private kB |');
  p('|---|--:|--:|--:|--:|');
  const keys = [...new Set([...smA.keys(), ...smD.keys()])];
  const diff = (k) => (smD.get(k)?.rss || 0) - (smA.get(k)?.rss || 0);
  let tA = 0;
  let tD = 0;
  for (const k of keys) {
    tA += smA.get(k)?.rss || 0;
    tD += smD.get(k)?.rss || 0;
  }
  for (const k of keys.sort((a, b) => diff(b) - diff(a))) {
    if (Math.abs(diff(k)) < 16) continue;
    p(`| ${k} | ${int(smA.get(k)?.rss || 0)} | ${int(smD.get(k)?.rss || 0)} | ${sgn(diff(k), 0)} | ${int(smD.get(k)?.priv || 0)} |`);
  }
  p(`| **total** | **${int(tA)}** | **${int(tD)}** | **${sgn(tD - tA, 0)}** | |`);
  p();
}

// ------------------------------------------------------------ verification
const verify = read(path.join(work, 'verify.txt'));
if (verify) {
  p('### Verification (before timing, livekit-server-sdk TokenVerifier)');
  p();
  p('```');
  p(verify.trimEnd());
  p('```');
  p();
}

// ------------------------------------------------------------ callgrind
const cgDir = path.join(results, 'callgrind');
const cgRuns = read(path.join(cgDir, 'runs.json'));
if (cgRuns) {
  const { lo, n } = JSON.parse(cgRuns);
  const total = (tag) => {
    const t = read(path.join(cgDir, `callgrind.${tag}.out`));
    const m = t && t.match(/^summary:\s*(\d+)/m);
    return m ? Number(m[1]) : NaN;
  };
  // callgrind_annotate names a function "file:function [object]", prints the
  // object on some lines only, and splits one function over several files
  // (inlined code): group by function and object.
  const names = {};
  for (const l of (read(path.join(cgDir, 'names.txt')) || '').split('\n')) {
    const [addr, obj, name] = l.trim().split(/\s+/);
    if (name) names[`${addr}|${path.basename(obj)}`] = name;
  }
  const files = {};
  const lines = (kind, tag) => {
    const k = `${kind}.${tag}`;
    if (!files[k]) {
      const t = read(path.join(cgDir, `annotate-${k}.txt`)) || '';
      files[k] = [];
      for (const line of t.split('\n')) {
        const x = line.match(/^\s*([\d,]+)\s+\(\s*[\d.]+%\)\s+(.+?)(?:\s+\[(.+)\])?\s*$/);
        if (!x || x[2] === 'PROGRAM TOTALS') continue;
        const raw = x[2];
        const fn = raw.startsWith('<') ? raw : raw.slice(raw.indexOf(':') + 1);
        files[k].push({ n: Number(x[1].replace(/,/g, '')), raw, fn, obj: x[3] });
      }
    }
    return files[k];
  };
  const tags = ['A', 'D', 'A-post', 'D-post'].flatMap((n) => [`${n}-lo`, `${n}-hi`]);
  const objOf = {};
  for (const kind of ['self', 'incl']) {
    for (const t of tags) for (const e of lines(kind, t)) if (e.obj && !e.fn.startsWith('0x')) objOf[e.fn] = e.obj;
  }
  const objFor = (e) => {
    if (e.obj) return e.obj;
    if (objOf[e.fn]) return objOf[e.fn];
    if (/ngx_http_livekit/.test(e.raw)) return 'ngx_http_livekit_token_module.so';
    if (/^\.\/(elf|malloc|string|nptl|libio|stdlib|posix|misc|time)\//.test(e.raw)) {
      return /^\.\/elf\//.test(e.raw) ? 'ld-linux-x86-64.so.2' : 'libc.so.6';
    }
    return '';
  };
  const keyOf = (e) => `${e.fn}|${path.basename(objFor(e))}`;
  const parse = (kind, tag) => {
    const m = new Map();
    for (const e of lines(kind, tag)) {
      const k = keyOf(e);
      // self costs of the pieces of a function add up; inclusive ones overlap
      m.set(k, kind === 'self' ? (m.get(k) || 0) + e.n : Math.max(m.get(k) || 0, e.n));
    }
    return m;
  };
  const slope = (kind, name) => {
    const l = parse(kind, `${name}-lo`);
    const h = parse(kind, `${name}-hi`);
    const s = new Map();
    for (const k of new Set([...l.keys(), ...h.keys()])) s.set(k, ((h.get(k) || 0) - (l.get(k) || 0)) / n);
    return s;
  };
  const per = (name) => (total(`${name}-hi`) - total(`${name}-lo`)) / n;
  const short = (k) => {
    const [fn, obj] = k.split('|');
    const nm = names[k] ? `${names[k]} (static, ${fn})` : fn;
    return `${nm}${obj ? ` [${obj}]` : ''}`.replace(/\|/g, '\\|');
  };
  const lib = (k) => {
    const o = k.split('|')[1] || '';
    if (/ngx_http_livekit_token_module/.test(o)) return 'module (.so)';
    if (/libcrypto/.test(o)) return 'libcrypto';
    if (/libjansson/.test(o)) return 'libjansson';
    if (/^libc\.so/.test(o)) return 'libc (malloc, memcpy, …)';
    if (o === 'nginx') return 'nginx';
    return o || '(unknown)';
  };

  const sum = [];
  const q = (s = '') => sum.push(s);
  q('## Instructions per token (callgrind)');
  q();
  q(
    `nginx \`master_process off; daemon off;\` under \`valgrind --tool=callgrind\`, one keep-alive client sending ` +
      `requests one at a time; each figure is the slope of two runs (${lo} and ${lo + n} requests) ÷ ${n}, so ` +
      `start-up and first-request costs cancel. A and D are locations of the same nginx (module loaded in both runs).`,
  );
  q();
  q('| requests | instructions/request | beyond A |');
  q('|---|--:|--:|');
  const pA = per('A');
  const pD = per('D');
  q(`| A GET (\`return 200\`, static) | ${int(pA)} | |`);
  q(`| D GET (module) | ${int(pD)} | **${int(pD - pA)}** |`);
  const pAp = per('A-post');
  const pDp = per('D-post');
  if (Number.isFinite(pDp)) {
    q(`| A POST (\`return 201\`, static) | ${int(pAp)} | |`);
    q(`| D POST (module) | ${int(pDp)} | **${int(pDp - pAp)}** |`);
  }
  q();

  q(
    'Under valgrind, CPUID hides SHA-NI, so libcrypto runs its AVX2 SHA-256 (about 3x the instructions ' +
      'of the SHA-NI code it runs natively here, see the micro-benchmark without SHA-NI): the SHA-256 ' +
      'share below is larger than in the timed runs. Everything else is the same code as natively.',
  );
  q();
  const sD = slope('self', 'D');
  const sA = slope('self', 'A');
  // where D's instructions beyond A go, by library
  const byLib = new Map();
  const beyond = new Map();
  for (const k of new Set([...sD.keys(), ...sA.keys()])) {
    const d = (sD.get(k) || 0) - (sA.get(k) || 0);
    beyond.set(k, d);
    byLib.set(lib(k), (byLib.get(lib(k)) || 0) + d);
  }
  q(`### Where D's ${int(pD - pA)} instructions per token beyond A go, by object (self cost, D − A)`);
  q();
  q('| object | instructions/token | share |');
  q('|---|--:|--:|');
  for (const [k, v] of [...byLib.entries()].sort((a, b) => b[1] - a[1])) {
    if (Math.abs(v) < 10) continue;
    q(`| ${k} | ${int(v)} | ${f((100 * v) / (pD - pA), 1)}% |`);
  }
  q();
  q('### Top functions beyond A (self, D − A, per token)');
  q();
  q('| instructions/token | function [object] |');
  q('|--:|---|');
  for (const [k, v] of [...beyond.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    q(`| ${int(v)} | ${short(k)} |`);
  }
  q();
  if (Number.isFinite(pDp)) {
    const sDp = slope('self', 'D-post');
    const sAp = slope('self', 'A-post');
    const bp = new Map();
    for (const k of new Set([...sDp.keys(), ...sAp.keys()])) bp.set(k, (sDp.get(k) || 0) - (sAp.get(k) || 0));
    q(`### POST: top functions beyond A-POST (self, D-POST − A-POST, per token; ${int(pDp - pAp)} in all)`);
    q();
    q('| instructions/token | function [object] |');
    q('|--:|---|');
    for (const [k, v] of [...bp.entries()].sort((a, b) => b[1] - a[1]).slice(0, 25)) {
      q(`| ${int(v)} | ${short(k)} |`);
    }
    q();
  }
  q('### D: top functions per token (callgrind_annotate --inclusive=no, slope)');
  q();
  q('| instructions/token | function [object] |');
  q('|--:|---|');
  for (const [k, v] of [...sD.entries()].sort((a, b) => b[1] - a[1]).slice(0, 30)) {
    q(`| ${int(v)} | ${short(k)} |`);
  }
  q();
  const iD = slope('incl', 'D');
  const want = /ngx_http_livekit|json_|EVP_MAC|EVP_Digest|HMAC|hmac|sha256_block|ngx_encode_base64|ossl_|CRYPTO_|malloc|free$/;
  const incl = [...iD.entries()]
    .filter(([k, v]) => want.test(k.split('|')[0]) && v >= 50)
    .sort((a, b) => b[1] - a[1]);
  if (incl.length) {
    q('### D: inclusive cost of the token path (callgrind_annotate --inclusive=yes, slope)');
    q();
    q('| instructions/token | function [object] |');
    q('|--:|---|');
    for (const [k, v] of incl.slice(0, 30)) q(`| ${int(v)} | ${short(k)} |`);
    q();
  }
  q(
    `Raw profiles: \`${shown(cgDir)}/callgrind.{A,D,A-post,D-post}-{lo,hi}.out\` ` +
      `(\`callgrind_annotate --inclusive=no ${shown(cgDir)}/callgrind.D-hi.out\`, or kcachegrind).`,
  );
  q();
  fs.writeFileSync(path.join(cgDir, 'summary.md'), sum.join('\n'));
  out.push(...sum);
}

// ------------------------------------------------------------ micro
const micro = read(path.join(work, 'sign_bench.txt'));
if (micro) {
  p('## Signing micro-benchmark (bench/sign_bench.c)');
  p();
  p('```');
  p(micro.trimEnd());
  p('```');
  p();
  const nosha = read(path.join(work, 'sign_bench-nosha.txt'));
  if (nosha) {
    p('The same HMAC cases with SHA-NI hidden (`OPENSSL_ia32cap=":~0x20000000"`), i.e. the SHA-256 code that runs under valgrind:');
    p();
    p('```');
    p(nosha.trimEnd());
    p('```');
    p();
  }
}

p(
  `Raw data: ${shown(path.join(results, stamp))}.jsonl (one line per wrk run; wrk output in ` +
    `${shown(path.join(work, 'wrk'))}/ until the next run).`,
);

const md = out.join('\n') + '\n';
fs.writeFileSync(path.join(results, `${stamp}.md`), md);
fs.writeFileSync(path.join(results, 'latest.md'), md);

// ------------------------------------------------------------ chart
const LABELS = { A: 'A static', B: 'B njs', C: 'C node', D: 'D module', 'A-post': 'A POST', 'D-post': 'D POST' };
const dat = servers
  .map((s, i) => `${i} "${LABELS[s] || s}" ${summary[s].rps.toFixed(0)} ${summary[s].cpu.toFixed(3)}`)
  .join('\n');
fs.writeFileSync(path.join(work, 'chart.dat'), dat + '\n');
fs.writeFileSync(
  path.join(work, 'chart.gp'),
  `set terminal pngcairo size 1100,520 font "sans,10"
set output "${path.join(work, 'chart.png')}"
set multiplot layout 1,2 title "LiveKit token servers, wrk -t1 -c${meta.conns}, median of ${meta.rounds} round(s) x ${meta.seconds} s (${meta.started})"
set style fill solid 0.8 border -1
set boxwidth 0.6
set grid ytics
set yrange [0:*]
set offsets 0, 0, graph 0.1, 0
set xtics rotate by -30 nomirror
set key off
set title "throughput (req/s, higher is better)"
plot "${path.join(work, 'chart.dat')}" using 1:3:xtic(2) with boxes lc rgb "#3b7dd8", \\
     "" using 1:3:(sprintf("%.0f", $3)) with labels offset 0,0.8
set title "server CPU per request (us, lower is better)"
plot "${path.join(work, 'chart.dat')}" using 1:4:xtic(2) with boxes lc rgb "#d8823b", \\
     "" using 1:4:(sprintf("%.2f", $4)) with labels offset 0,0.8
unset multiplot
`,
);
