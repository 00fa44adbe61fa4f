-- wrk script: GET (the URL given to wrk); prints one machine-readable line.
-- Loaded by bench/run.sh; post.lua and count.lua reuse done() below.

done = function(summary, latency, requests)
   local e = summary.errors
   io.write(string.format(
      "RESULT requests=%d duration_us=%d rps=%.1f p50_us=%.1f p99_us=%.1f " ..
      "mean_us=%.1f max_us=%d socket_errors=%d status_errors=%d bytes=%d\n",
      summary.requests, summary.duration,
      summary.requests / (summary.duration / 1e6),
      latency:percentile(50), latency:percentile(99), latency.mean,
      latency.max, e.connect + e.read + e.write + e.timeout, e.status,
      summary.bytes))
end
