-- Sliding window log: exact, one sorted-set entry per admitted unit. State format version 1.
--
-- KEYS[1]  the log: "<prefix>{<policy>:<escaped key>}:sl" (one hash tag per subject)
-- ARGV[1]  burst      ignored (the capacity is `limit`); kept so every script takes the same ARGV
-- ARGV[2]  limit      units admitted in any period, 1..100000
-- ARGV[3]  period     period in microseconds, >= 1000
-- ARGV[4]  cost       units to take, >= 0; 0 = look only; < 0 = refund -cost units taken at ARGV[6]
-- ARGV[5]  now        microseconds since the epoch, or -1 to read the shard's clock with TIME
-- ARGV[6]  (refund)   the consumption's time in microseconds, as the check returned it
--
-- Returns {allowed (1|0), remaining, reset_ms, retry_after_ms, now_us} as the other scripts do.
--
-- State: a sorted set; score = admission time (us), member = "<time>:<n>" with n zero-padded to
-- five digits, counting from 0 within one time, so members are unique and, within one score,
-- sorted by n. A unit counts while score > now - period. Denials and looks only read; an admission
-- trims the units that left the window, adds one entry per unit and sets PX to one period (the
-- log is then empty exactly when the key expires). A clock reading older than the newest entry
-- counts as the newest entry's time, so time never runs backwards for the log. Refunds remove the
-- highest-numbered entries of the consumption's time, which keeps each time's numbers 0..k-1.
-- Java twin: dev.sluice.core.SlidingWindowLog.

-- (prelude.lua, prepended at load: idiv, cdiv, burst, limit, period, cost, need, now, extra, force,
-- answer)

local newest = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local last = nil
if newest[2] then
  last = tonumber(newest[2])
  if last > now then
    now = last
  end
end

if cost < 0 then
  local members = redis.call('ZRANGEBYSCORE', KEYS[1], extra, extra)
  local i = #members
  local n = -cost
  while n > 0 and i >= 1 do
    redis.call('ZREM', KEYS[1], members[i])
    i = i - 1
    n = n - 1
  end
  return answer(1, 0, 0, 0)
end

local floor = string.format('%d', now - period)
local count = redis.call('ZCOUNT', KEYS[1], '(' .. floor, '+inf')
local allowed = 0
local retry = 0
if force or count + need <= limit then
  allowed = 1
  local cap = math.min(2 * limit, 100000)
  if force and count + cost > cap then
    -- a charge's overdraft: at most one limit beyond it, and never more entries in the log than
    -- a five-digit sequence numbers
    cost = math.max(0, cap - count)
  end
  if cost > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', floor)
    local at = string.format('%d', now)
    local k = redis.call('ZCOUNT', KEYS[1], at, at)
    local i = 0
    while i < cost do
      -- at most 500 entries per ZADD: Lua's C stack takes about 8000 arguments
      local args = {}
      local j = 0
      while j < 500 and i < cost do
        args[#args + 1] = at
        args[#args + 1] = string.format('%s:%05d', at, k + i)
        i = i + 1
        j = j + 1
      end
      redis.call('ZADD', KEYS[1], unpack(args))
    end
    count = count + cost
    last = now
    redis.call('PEXPIRE', KEYS[1], string.format('%d', cdiv(period, 1000)))
  end
else
  local oldest = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. floor, '+inf', 'WITHSCORES', 'LIMIT',
    count + need - limit - 1, 1)
  retry = cdiv(tonumber(oldest[2]) + period - now, 1000)
end

local reset = 0
if count > 0 then
  reset = cdiv(last + period - now, 1000)
end
return answer(allowed, limit - count, reset, retry)
