-- Token bucket: one atomic read-decide-update. State format version 1.
--
-- KEYS[1]  the bucket: "<prefix>{<policy>:<escaped key>}:tb" (one hash tag per subject)
-- ARGV[1]  burst      capacity in tokens, >= 1
-- ARGV[2]  limit      tokens added per period, >= 1
-- ARGV[3]  period     period in milliseconds, >= 1
-- ARGV[4]  cost       tokens to take, >= 0; 0 = look only: decide whether 1 token is there, write nothing
-- ARGV[5]  now        milliseconds since the epoch, or -1 to read the shard's clock with TIME
--
-- Returns {allowed (1|0), remaining, reset_ms, retry_after_ms, now_ms}:
--   remaining       whole tokens left after this decision
--   reset_ms        milliseconds until the bucket is full again
--   retry_after_ms  when denied, milliseconds until `cost` (for a look: 1) tokens are there; else 0
--   now_ms          the time the decision was taken at (never before the bucket's last update)
--
-- State (a string, so one key per subject): "<scaled>:<ts>:<period>"
--   scaled  tokens * period, an integer: refill over e ms adds e * limit exactly, no fractions
--   ts      ms of the last update; a clock reading before it is taken as equal to it
--   period  the period the state was scaled with (a changed period keeps the whole tokens)
-- Every write sets PX to the time until the bucket is full, so an idle subject disappears
-- exactly when it would be indistinguishable from a fresh one.
--
-- All arithmetic stays on integers below 2^53 (the caller bounds burst * period), so Lua's
-- doubles are exact and the Java twin (dev.sluice.core.TokenBucket) computes the same numbers.

local function idiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then
    q = q - 1
  elseif (q + 1) * b <= a then
    q = q + 1
  end
  return q
end

local function cdiv(a, b)
  return idiv(a + b - 1, b)
end

local burst = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local now = tonumber(ARGV[5])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end

local capacity = burst * period
local tokens = capacity
local raw = redis.call('GET', KEYS[1])
if raw then
  local s, ts, p = string.match(raw, '^(%d+):(%d+):(%d+)$')
  if s then
    s = tonumber(s)
    ts = tonumber(ts)
    p = tonumber(p)
    if p ~= period then
      s = idiv(s, p) * period
    end
    if s > capacity then
      s = capacity
    end
    if now < ts then
      now = ts
    end
    local elapsed = now - ts
    if elapsed >= cdiv(capacity - s, limit) then
      tokens = capacity
    else
      tokens = s + elapsed * limit
    end
  end
end

local need = cost * period
local look = cost == 0
if look then
  need = period
end
local allowed = 0
local retry = 0
if tokens >= need then
  allowed = 1
  if not look then
    tokens = tokens - need
  end
else
  retry = cdiv(need - tokens, limit)
end

local reset = cdiv(capacity - tokens, limit)
if allowed == 1 and not look then
  redis.call('SET', KEYS[1], string.format('%d:%d:%d', tokens, now, period), 'PX', string.format('%d', reset))
end
return {allowed, idiv(tokens, period), reset, retry, now}
