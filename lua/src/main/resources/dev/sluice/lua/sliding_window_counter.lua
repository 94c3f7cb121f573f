-- Sliding window counter (Cloudflare's two-window approximation), atomically. State format version 1.
--
-- KEYS[1]  the counters: "<prefix>{<policy>:<escaped key>}:sw" (one hash tag per subject)
-- ARGV[1]  burst      ignored (the capacity is `limit`); kept so every script takes the same ARGV
-- ARGV[2]  limit      units admitted per sliding period, >= 1
-- ARGV[3]  period     period in microseconds, >= 1000; limit * period <= 2^52
-- ARGV[4]  cost       units to take, >= 0; 0 = look only: decide whether 1 unit is there, write nothing
-- ARGV[5]  now        microseconds since the epoch, or -1 to read the shard's clock with TIME
--
-- Returns {allowed (1|0), remaining, reset_ms, retry_after_ms, now_us} as the other scripts do.
--
-- State: "<k>:<cur>:<prev>": units admitted in window k = floor(now / period) and in window k-1.
-- At e microseconds into window k the sliding estimate is prev * (period - e) / period + cur; a
-- check is admitted when estimate + cost <= limit, compared as integers multiplied by period:
--   prev * (period - e) + (cur + cost) * period <= limit * period.
-- A clock reading before the stored window counts as the stored window's start (time never runs
-- backwards). Every write sets PX until the end of window k+1, after which the state no longer
-- weighs on any decision. Java twin: dev.sluice.core.SlidingWindowCounter.

-- (prelude.lua, prepended at load: idiv, cdiv, burst, limit, period, cost, need, now, extra, force,
-- answer)

-- the stored state, read once: k (its window), c (units in k), p (units in k - 1); k is nil when
-- there is none or it cannot be read (a fresh subject)
local k, c, p = nil, 0, 0
local raw = redis.call('GET', KEYS[1])
if raw then
  local sk, sc, sp = string.match(raw, '^(%d+):(%d+):(%d+)$')
  if sk then
    k = tonumber(sk)
    c = tonumber(sc)
    p = tonumber(sp)
  end
end

if cost < 0 then
  -- refund: from the current count while the consumption's window is the stored one, from the
  -- previous count one window later; the time to live stays
  if k then
    local w = idiv(tonumber(extra), period)
    if k == w or k == w + 1 then
      if k == w then
        c = c + cost
        if c < 0 then c = 0 end
      else
        p = p + cost
        if p < 0 then p = 0 end
      end
      if c == 0 and p == 0 then
        redis.call('DEL', KEYS[1])
      else
        redis.call('SET', KEYS[1], string.format('%d:%d:%d', k, c, p), 'KEEPTTL')
      end
    end
  end
  return answer(1, 0, 0, 0)
end

local window = idiv(now, period)
local at = now
local cur = 0
local prev = 0
if k then
  if k > window then
    window = k
    at = k * period
  end
  if k == window then
    cur = c
    prev = p
  elseif k == window - 1 then
    prev = c
  end
end

local e = at - window * period
local allowed = 0
local retry = 0
if force or prev * (period - e) + (cur + need) * period <= limit * period then
  allowed = 1
  if cost > 0 then
    local before = cur
    cur = cur + cost
    if force and cur > 2 * limit then
      -- a charge's overdraft: at most one limit beyond it
      cur = math.max(before, 2 * limit)
    end
    redis.call('SET', KEYS[1], string.format('%d:%d:%d', window, cur, prev), 'PX',
      string.format('%d', cdiv((window + 2) * period - now, 1000)))
  end
else
  local t = -1
  local slack = limit - cur - need
  if slack >= 0 and prev > 0 then
    local e2 = period - idiv(slack * period, prev)
    if e2 < period then
      t = window * period + e2
    end
  end
  if t < 0 then
    local e3 = 0
    if cur > 0 then
      e3 = period - idiv((limit - need) * period, cur)
      if e3 < 0 then
        e3 = 0
      end
    end
    t = (window + 1) * period + e3
  end
  retry = cdiv(t - now, 1000)
end

local reset = 0
if cur > 0 then
  reset = cdiv((window + 2) * period - now, 1000)
elseif prev > 0 then
  reset = cdiv((window + 1) * period - now, 1000)
end
return answer(allowed, idiv(limit * period - prev * (period - e) - cur * period, period), reset, retry)
