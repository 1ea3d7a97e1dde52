-- wrk script for the soak test: a mix of person requests with bearer sessions, paced by
-- delay() so that the machine is busy but not saturated: 70% p2p transfers (10% of them with
-- an Idempotency-Key, sent twice), 20% balance reads, 10% statements. Counts every answer
-- that is not 2xx; prints one RESULT line.
local people = {}
for line in io.lines(os.getenv("HB_TOKENS")) do
  local id, token = line:match("^(%S+) (%S+)$")
  if id then people[#people + 1] = { id = id, token = token } end
end
local pause_ms = tonumber(os.getenv("SOAK_PAUSE_MS") or "2")
local counter = 0
local last_key = nil

function init(args)
  math.randomseed(os.time() + tonumber(tostring({}):match("0x(%x+)"), 16) % 100000)
end

function delay()
  return pause_ms
end

function request()
  counter = counter + 1
  local a = math.random(#people)
  local roll = math.random(100)
  local headers = { ["Authorization"] = "Bearer " .. people[a].token }
  if roll <= 70 then
    local b = math.random(#people - 1)
    if b >= a then b = b + 1 end
    headers["Content-Type"] = "application/json"
    if roll <= 7 then
      last_key = last_key or ("soak-" .. tostring(counter) .. "-" .. tostring(math.random(1e9)))
      headers["Idempotency-Key"] = last_key
      if math.random(2) == 1 then last_key = nil end
      b = (a % #people) + 1
    end
    local body = string.format('{"from":"%s","to":"%s","amount":1}', people[a].id, people[b].id)
    return wrk.format("POST", "/v1/transfers", headers, body)
  elseif roll <= 90 then
    return wrk.format("GET", "/v1/accounts/" .. people[a].id, headers)
  else
    return wrk.format("GET", "/v1/accounts/" .. people[a].id .. "/transfers?limit=20", headers)
  end
end

function done(summary, latency, requests)
  io.write(string.format('RESULT {"requests":%d,"seconds":%.1f,"rps":%.0f,"p50_ms":%.2f,"p99_ms":%.2f,"non_2xx":%d,"socket_errors":%d}\n',
    summary.requests, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(99) / 1000, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
