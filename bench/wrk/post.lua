-- wrk script: the POST contract (LiveKit's JSON token request).
wrk.method = "POST"
wrk.body   = '{"room_name":"consult-42","participant_identity":"Jane"}'
wrk.headers["Content-Type"] = "application/json"

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
