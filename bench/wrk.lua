-- wrk script for bench/load.sh: a fixed request (method and body from the environment) and one
-- machine-readable result line with throughput and latency percentiles.
wrk.method = os.getenv("LK_METHOD") or "GET"
wrk.body = os.getenv("LK_BODY")
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("LK_AUTH")
if auth then wrk.headers["Authorization"] = auth end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    "RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.1f non2xx=%d socket_errors=%d\n",
    summary.requests / seconds, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
