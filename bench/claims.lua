-- wrk script: red-packet claims over keep-alive connections, each by its own claimer.
-- Reads "PACKET TOKEN SESSION" lines from $HB_CLAIMS; wrk thread k of n claims with lines
-- k, k+n, k+2n, ... (every claimer once). Counts 201s apart from anything else.
local lines = {}
for line in io.lines(os.getenv("HB_CLAIMS")) do
  local pkt, token, session = line:match("^(%S+) (%S+) (%S+)$")
  if pkt then lines[#lines + 1] = { pkt = pkt, token = token, session = session } end
end

local threads = {}
local counter = 0
function setup(thread)
  counter = counter + 1
  thread:set("index", counter)
  table.insert(threads, thread)
end

local next_line, stride
function init(args)
  next_line = index
  stride = tonumber(os.getenv("HB_WRK_THREADS") or "2")
  created, other = 0, 0
end

function request()
  local l = lines[next_line]
  if l == nil then l = lines[#lines] end -- out of claimers: answered 409, counted apart
  next_line = next_line + stride
  return wrk.format("POST", "/v1/packets/" .. l.pkt .. "/claims", {
    ["Authorization"] = "Bearer " .. l.session,
    ["Content-Type"] = "application/json",
  }, '{"token":"' .. l.token .. '"}')
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
  io.write(string.format('RESULT {"requests":%d,"seconds":%.3f,"rps":%.0f,"claimed":%d,"other":%d,"p50_ms":%.2f,"p99_ms":%.2f,"socket_errors":%d}\n',
    summary.requests, seconds, ok / seconds, ok, bad,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
