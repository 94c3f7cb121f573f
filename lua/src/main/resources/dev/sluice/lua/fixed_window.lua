-- Fixed window: a counter per window of `period`, done atomically. State format version 1.
--
-- KEYS[1]  the counter: "<prefix>{<policy>:<escaped key>}:fw" (one hash tag per subject)
-- ARGV[1]  burst      ignored (the window's capacity is `limit`); kept so every script takes the same ARGV
-- ARGV[2]  limit      units admitted per window, >= 1
-- ARGV[3]  period     window length in microseconds, >= 1000
-- ARGV[4]  cost       units to take, >= 0; 0 = look only: decide whether 1 unit is there, write nothing
-- ARGV[5]  now        microseconds since the epoch, or -1 to read the shard's clock with TIME
--
-- Returns {allowed (1|0), remaining, reset_ms, retry_after_ms, now_us} as token_bucket.lua does;
-- reset and retry are both the time until the window ends (the next window holds `limit`).
--
-- State: "<window index>:<count>", window index = floor(now / period). A clock reading in an
-- earlier window than the stored one counts in the stored window, so time never runs backwards for
-- a counter. Every write sets PX to the time until the window ends. The classic boundary bias
-- stands: a client can get up to 2 x limit within one period across a window boundary.
-- Java twin: dev.sluice.core.FixedWindow.

-- (prelude.lua, prepended at load: idiv, cdiv, burst, limit, period, cost, need, now, extra, force,
-- answer)

local raw = redis.call('GET', KEYS[1])
if cost < 0 then
  -- refund: only while the consumption's window is the stored one; the time to live stays
  if raw then
    local w, c = string.match(raw, '^(%d+):(%d+)$')
    if w and tonumber(w) == idiv(tonumber(extra), period) then
      c = tonumber(c) + cost
      if c > 0 then
        redis.call('SET', KEYS[1], string.format('%d:%d', tonumber(w), c), 'KEEPTTL')
      else
        redis.call('DEL', KEYS[1])
      end
    end
  end
  return answer(1, 0, 0, 0)
end

local window = idiv(now, period)
local count = 0
if raw then
  local w, c = string.match(raw, '^(%d+):(%d+)$')
  if w then
    w = tonumber(w)
    if w >= window then
      window = w
      count = tonumber(c)
    end
  end
end

local until_end = cdiv((window + 1) * period - now, 1000)
local allowed = 0
local retry = 0
if force or count + need <= limit then
  allowed = 1
  if cost > 0 then
    local before = count
    count = count + cost
    if force and count > 2 * limit then
      -- a charge's overdraft: at most one limit beyond it
      count = math.max(before, 2 * limit)
    end
    redis.call('SET', KEYS[1], string.format('%d:%d', window, count), 'PX', string.format('%d', until_end))
  end
else
  retry = until_end
end

local reset = 0
if count > 0 then
  reset = until_end
end
return answer(allowed, limit - count, reset, retry)
