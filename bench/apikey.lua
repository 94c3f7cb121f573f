-- wrk script: POST <PATH_UNDER_TEST> (default /v1/check) with the header X-Api-Key of one of the
-- keys in KEYS_FILE (one per line) chosen at random per request, and no body. The benchmark drives
-- the no-op endpoint with the same script (PATH_UNDER_TEST=/v1/ping), so both sides pay the same
-- client cost and the ratio measures only the service's work: key lookup, rate, daily and monthly.
local path = os.getenv("PATH_UNDER_TEST") or "/v1/check"
local keys = {}
for line in io.lines(os.getenv("KEYS_FILE")) do
  keys[#keys + 1] = line
end
wrk.method = "POST"

request = function()
  return wrk.format(nil, path, {["X-Api-Key"] = keys[math.random(#keys)]}, nil)
end
