-- wrk script for bench/load.sh: a fixed request (method and body from the environment) and one
-- machine-readable result line with throughput (every answer: rps; 2xx and 3xx only: ok_rps) and
-- latency percentiles.
wrk.method = os.getenv("LK_METHOD") or "GET"
wrk.body = os.getenv("LK_BODY")
wrk.headers["Content-Type"] = "application/json"
local auth = os.getenv("LK_AUTH")
if auth then wrk.headers["Authorization"] = auth end

-- LK_LOGINS=n: logins of bench0@example.com … bench<n-1>@example.com (password LK_PASSWORD) in turn,
-- each from its own address (X-Forwarded-For 10.0.0.<i>), as n different users would log in.
local logins = tonumber(os.getenv("LK_LOGINS") or "0")
if logins > 0 then
  local password = os.getenv("LK_PASSWORD")
  local turn = 0
  request = function()
    turn = turn + 1
    local i = turn % logins
    local body = string.format('{"email":"bench%d@example.com","password":"%s"}', i, password)
    local headers = { ["Content-Type"] = "application/json", ["X-Forwarded-For"] = "10.0.0." .. i }
    return wrk.format("POST", nil, headers, body)
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format(
    "RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f max_ms=%.1f non2xx=%d socket_errors=%d ok_rps=%.0f\n",
    summary.requests / seconds, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3, latency.max / 1e3,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout,
    (summary.requests - errors.status) / seconds))
end
