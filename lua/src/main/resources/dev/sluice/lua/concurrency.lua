-- Concurrency limit: in-flight leases that expire. State format version 1.
--
-- KEYS[1]  the leases: "<prefix>{<policy>:<escaped key>}:cc" (one hash tag per subject)
-- ARGV[1]  burst      ignored (the capacity is `limit`); kept so every script takes the same ARGV
-- ARGV[2]  limit      leases held at once, >= 1
-- ARGV[3]  period     a lease's time to live in microseconds, >= 1000
-- ARGV[4]  cost       1 = take a lease, 0 = look whether one is free, < 0 = release ARGV[6]
-- ARGV[5]  now        microseconds since the epoch, or -1 to read the shard's clock with TIME
-- ARGV[6]  token      the lease's token (chosen by the caller, unique)
--
-- Returns {allowed (1|0), remaining, reset_ms, retry_after_ms, now_us}; a release returns
-- {removed (1|0), 0, 0, 0, now_us}.
--   reset_ms        time until every lease held now has expired
--   retry_after_ms  when denied, time until the earliest lease expires, at most 1000 (callers
--                   usually release well before their lease expires)
--
-- State: a sorted set; member = token, score = expiry (us). A lease counts while score > now, so a
-- lease its holder never released stops counting after its time to live. An admission trims the
-- expired leases, adds its own and sets PX to the latest expiry; denials and looks only read.
-- Java twin: dev.sluice.core.Concurrency.

-- (prelude.lua, prepended at load: idiv, cdiv, burst, limit, period, cost, need, now, extra, answer)

if cost < 0 then
  return answer(redis.call('ZREM', KEYS[1], extra), 0, 0, 0)
end

local at = string.format('%d', now)
-- the latest expiry, read once: nothing is read back after PEXPIRE, which with a lease time to live
-- of a millisecond may already have removed the key by the time a later call would look
local top = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
local latest = nil
if top[2] then
  latest = tonumber(top[2])
end
local count = redis.call('ZCOUNT', KEYS[1], '(' .. at, '+inf')
local allowed = 0
local retry = 0
if count + 1 <= limit then
  allowed = 1
  if cost > 0 then
    redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', at)
    redis.call('ZADD', KEYS[1], string.format('%d', now + period), extra)
    count = count + 1
    if latest == nil or now + period > latest then
      latest = now + period
    end
    redis.call('PEXPIRE', KEYS[1], string.format('%d', cdiv(latest - now, 1000)))
  end
else
  local earliest = redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. at, '+inf', 'WITHSCORES', 'LIMIT', 0, 1)
  retry = cdiv(tonumber(earliest[2]) - now, 1000)
  if retry > 1000 then
    retry = 1000
  end
end

local reset = 0
if count > 0 then
  reset = cdiv(latest - now, 1000)
end
return answer(allowed, limit - count, reset, retry)
