-- wrk script: payments through a merchant's static code over keep-alive connections. Reads
-- "PAYLOAD SESSION" lines from $HB_PAYERS; each request is the next payer (round robin per
-- wrk thread) paying 0.01-0.99. Counts 201s apart from anything else. With HB_RISK_TRAFFIC=1
-- each payer pays from its own device.
local lines = {}
for line in io.lines(os.getenv("HB_PAYERS")) do
  local payload, session = line:match("^(%S+) (%S+)$")
  if payload then lines[#lines + 1] = { payload = payload, session = session } end
end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
end

-- Each wrk thread formats a pool of its requests once at start (no Lua string build per
-- request) and defines no response() callback: only answers of 400 and above are counted
-- apart by wrk, so the payments are the requests less those (a payment answers 201).
local devices = os.getenv("HB_RISK_TRAFFIC") == "1"
local POOL = 8192
local pool, next_request
function init(args)
  local stride = tonumber(os.getenv("HB_WRK_THREADS") or "2")
  pool, next_request = {}, 1
  local n = index
  for i = 1, POOL do
    local at = (n - 1) % #lines + 1
    local l = lines[at]
    local amount = n % 99 + 1
    n = n + stride
    local device = ""
    if devices then device = ',"device":"pdev-' .. at .. '"' end
    pool[i] = wrk.format("POST", "/v1/payments", {
      ["Authorization"] = "Bearer " .. l.session,
      ["Content-Type"] = "application/json",
    }, '{"payload":"' .. l.payload .. '","amount":' .. amount .. device .. '}')
  end
end

function request()
  local r = pool[next_request]
  next_request = next_request % POOL + 1
  return r
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local bad = summary.errors.status
  local ok = summary.requests - bad
  io.write(string.format('RESULT {"requests":%d,"seconds":%.3f,"rps":%.0f,"paid":%d,"other":%d,"p50_ms":%.2f,"p99_ms":%.2f,"socket_errors":%d}\n',
    summary.requests, seconds, ok / seconds, ok, bad,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
