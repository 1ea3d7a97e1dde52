-- wrk script: durable p2p transfers over keep-alive connections with person bearer tokens.
-- Reads "acct_N TOKEN" lines from the file in $HB_TOKENS; each request pays 1 fen from a
-- random person's own wallet to another random person.
local people = {}
for line in io.lines(os.getenv("HB_TOKENS")) do
  local id, token = line:match("^(%S+) (%S+)$")
  if id then people[#people + 1] = { id = id, token = token } end
end

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

function request()
  local a = math.random(#people)
  local b = math.random(#people - 1)
  if b >= a then b = b + 1 end
  local body = string.format('{"from":"%s","to":"%s","amount":1}', people[a].id, people[b].id)
  return wrk.format("POST", "/v1/transfers", {
    ["Authorization"] = "Bearer " .. people[a].token,
    ["Content-Type"] = "application/json",
  }, body)
end

local status_counts = {}
function response(status, headers, body)
  status_counts[status] = (status_counts[status] or 0) + 1
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format('RESULT {"requests":%d,"seconds":%.3f,"rps":%.0f,"p50_ms":%.2f,"p99_ms":%.2f,"non_2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
