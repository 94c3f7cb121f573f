-- wrk script: POST <PATH> (default /v1/check) for one of KEYS subjects chosen at random per
-- request. The benchmark drives the no-op endpoint with the same script (PATH=/v1/ping), so both
-- sides pay the same client cost and the ratio measures only the service's decision work.
-- KEYS, POLICY and PATH come from the environment (defaults 10000, bench, /v1/check).
local keys = tonumber(os.getenv("KEYS") or "10000")
local policy = os.getenv("POLICY") or "bench"
local path = os.getenv("PATH_UNDER_TEST") or "/v1/check"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

request = function()
  local body = string.format('{"policy":"%s","key":"user-%d"}', policy, math.random(keys))
  return wrk.format(nil, path, nil, body)
end

