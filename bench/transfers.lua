-- wrk script: durable p2p transfers over keep-alive connections with person bearer tokens.
-- Reads "acct_N TOKEN" lines from the file in $HB_TOKENS; each request pays 1 fen from a
-- random person's own wallet to another random person. With HB_RISK_TRAFFIC=1, traffic that
-- passes every risk rule: 0.01-0.99 at random, each person from its own device.
-- Each wrk thread formats a pool of random requests once and sends them in turn, and no
-- response() callback is defined: wrk then spends on each request about what it spends on
-- the static GET /healthz it is compared with, not a Lua string build and a header table.
-- Every transfer answers 201, so successes are the requests less the non-2xx answers.
local people = {}
for line in io.lines(os.getenv("HB_TOKENS")) do
  local id, token = line:match("^(%S+) (%S+)$")
  if id then people[#people + 1] = { id = id, token = token } end
end

local varied = os.getenv("HB_RISK_TRAFFIC") == "1"
local POOL = 8192
local pool, next_request = {}, 1
function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
  for i = 1, POOL do
    local a = math.random(#people)
    local b = math.random(#people - 1)
    if b >= a then b = b + 1 end
    local body
    if varied then
      body = string.format('{"from":"%s","to":"%s","amount":%d,"device":"dev-%s"}', people[a].id,
                           people[b].id, math.random(99), people[a].id)
    else
      body = string.format('{"from":"%s","to":"%s","amount":1}', people[a].id, people[b].id)
    end
    pool[i] = wrk.format("POST", "/v1/transfers", {
      ["Authorization"] = "Bearer " .. people[a].token,
      ["Content-Type"] = "application/json",
    }, body)
  end
end

function request()
  local r = pool[next_request]
  next_request = next_request % POOL + 1
  return r
end

function done(summary, latency, requests)
  local non2xx = summary.errors.status
  local seconds = summary.duration / 1e6
  io.write(string.format('RESULT {"requests":%d,"seconds":%.3f,"rps":%.0f,"created_rps":%.0f,"p50_ms":%.2f,"p99_ms":%.2f,"non_2xx":%d,"socket_errors":%d}\n',
    summary.requests, seconds, summary.requests / seconds, (summary.requests - non2xx) / seconds,
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, non2xx,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
