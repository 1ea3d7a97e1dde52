-- wrk script: red-packet claims over keep-alive connections, each by its own claimer.
-- Reads "PACKET TOKEN SESSION" lines from $HB_CLAIMS; wrk thread k of n claims with lines
-- k, k+n, k+2n, ... (every claimer once). Counts 201s apart from anything else.
local lines = {}
for line in io.lines(os.getenv("HB_CLAIMS")) do
  local pkt, token, session = line:match("^(%S+) (%S+) (%S+)$")
  if pkt then lines[#lines + 1] = { pkt = pkt, token = token, session = session } end
end

local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
end

-- Each wrk thread formats its claims once at start (no Lua string build per request) and
-- defines no response() callback: only answers of 400 and above are counted apart by wrk,
-- so the claims are the requests less those (a claim answers 201; a second claim, 409).
local pool, next_request
function init(args)
  local stride = tonumber(os.getenv("HB_WRK_THREADS") or "2")
  pool, next_request = {}, 1
  for i = index, #lines, stride do
    local l = lines[i]
    pool[#pool + 1] = wrk.format("POST", "/v1/packets/" .. l.pkt .. "/claims", {
      ["Authorization"] = "Bearer " .. l.session,
      ["Content-Type"] = "application/json",
    }, '{"token":"' .. l.token .. '"}')
  end
end

function request()
  local r = pool[next_request]
  if next_request < #pool then next_request = next_request + 1 end -- out of claimers: 409s
  return r
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local bad = summary.errors.status
  local ok = summary.requests - bad
  io.write(string.format('RESULT {"requests":%d,"seconds":%.3f,"rps":%.0f,"claimed":%d,"other":%d,"p50_ms":%.2f,"p99_ms":%.2f,"socket_errors":%d}\n',
    summary.requests, seconds, ok / seconds, ok, bad,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
