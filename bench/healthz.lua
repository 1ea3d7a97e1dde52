-- wrk script: GET /healthz, the bare-HTTP ceiling measured in the same run.
function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests":%d,"seconds":%.3f,"rps":%.0f,"p50_ms":%.2f,"p99_ms":%.2f,"non_2xx":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status))
end
