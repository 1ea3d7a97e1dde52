-- wrk script: payments through a merchant's static code over keep-alive connections. Reads
-- "PAYLOAD SESSION" lines from $HB_PAYERS; each request is the next payer (round robin per
-- wrk thread) paying 0.01-0.99. Counts 201s apart from anything else. With HB_RISK_TRAFFIC=1
-- each payer pays from its own device.
local lines = {}
for line in io.lines(os.getenv("HB_PAYERS")) do
  local payload, session = line:match("^(%S+) (%S+)$")
  if payload then lines[#lines + 1] = { payload = payload, session = session } end
end

local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  table.insert(threads, thread)
end

local n, stride
local devices = os.getenv("HB_RISK_TRAFFIC") == "1"
function init(args)
  n = index
  stride = tonumber(os.getenv("HB_WRK_THREADS") or "2")
  created, other = 0, 0
end

function request()
  local index = (n - 1) % #lines + 1
  local l = lines[index]
  local amount = n % 99 + 1
  n = n + stride
  local device = ""
  if devices then device = ',"device":"pdev-' .. index .. '"' end
  return wrk.format("POST", "/v1/payments", {
    ["Authorization"] = "Bearer " .. l.session,
    ["Content-Type"] = "application/json",
  }, '{"payload":"' .. l.payload .. '","amount":' .. amount .. device .. '}')
end

function response(status, headers, body)
  if status == 201 then created = created + 1 else other = other + 1 end
end

function done(summary, latency, requests)
  local ok, bad = 0, 0
  for _, t in ipairs(threads) do
    ok = ok + t:get("created")
    bad = bad + t:get("other")
  end
  local seconds = summary.duration / 1e6
  io.write(string.format('RESULT {"requests":%d,"seconds":%.3f,"rps":%.0f,"paid":%d,"other":%d,"p50_ms":%.2f,"p99_ms":%.2f,"socket_errors":%d}\n',
    summary.requests, seconds, ok / seconds, ok, bad,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
