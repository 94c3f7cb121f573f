-- wrk script: POST /v1/check for one of KEYS subjects chosen at random per request.
-- KEYS and POLICY come from the environment (defaults 10000, bench).
local keys = tonumber(os.getenv("KEYS") or "10000")
local policy = os.getenv("POLICY") or "bench"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  local body = string.format('{"policy":"%s","key":"user-%d"}', policy, math.random(keys))
  return wrk.format(nil, "/v1/check", nil, body)
end

local codes = {}
response = function(status, headers, body)
  codes[status] = (codes[status] or 0) + 1
end

done = function(summary, latency, requests)
  io.write(string.format("status-200 %d\nstatus-429 %d\n", codes[200] or 0, codes[429] or 0))
end
