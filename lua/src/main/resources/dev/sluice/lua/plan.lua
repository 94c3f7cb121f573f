-- A plan check: the plan's token bucket and its daily and monthly quotas, decided and taken
-- together in one atomic step. The two keys share the account's hash tag, so they live on one
-- shard and the step is one round trip.
--
-- KEYS[1]  the bucket            "<prefix>{rate:<account>}:tb"
-- KEYS[2]  the month's quotas    "<prefix>{rate:<account>}:q:<yyyy-mm in the plan's zone>", a hash:
--          field "m" the month's counter, field ARGV[13] (the day, "<yyyy-mm-dd>") each day's
--          counter; the hash expires when the month ends. One hash read and one hash write
--          instead of two counters' GET, INCRBY (and PEXPIRE) each: two fewer Redis calls per check
--          (docs/benchmarks.md).
-- ARGV[1..5]  burst, limit, period (µs), cost (>= 0; 0 looks), now: as every script (prelude.lua)
-- ARGV[7]  the daily quota, 0 for none      ARGV[8]   ms until the day ends (a daily denial's retry)
-- ARGV[9]  the monthly quota, 0 for none    ARGV[10]  ms until the month ends (the hash's TTL)
-- ARGV[11] the day's usage recorded in the durable ledger, ARGV[12] the month's: a counter that is
--          missing (a new day, or Redis lost it) starts from it, so a flushed or restarted Redis
--          does not hand out a fresh day or month
-- ARGV[13] the day's field
--
-- Returns {allowed, remaining, reset_ms, retry_after_ms, now_us, day_used, month_used, violated}:
--   the first five as the token bucket's; day_used / month_used the counters after the decision;
--   violated: 0 none, 3 the monthly quota, 2 the daily quota, 1 the rate (the first that fails, in
--   that order; a quota's retry is the end of its day or month).
-- A quota counts admitted units (each request once, its cost), whatever its burst: the bucket
-- smooths, the quotas count. Nothing is taken unless everything passes (a missing counter is
-- restored from its seed all the same).

-- (prelude.lua, prepended at load: idiv, cdiv, burst, limit, period, cost, need, now, extra,
-- bucket_debt, answer)

if cost < 0 then
  return redis.error_reply('plan checks are not refunded')
end
local day_quota = tonumber(ARGV[7])
local day_ttl = tonumber(ARGV[8])
local month_quota = tonumber(ARGV[9])
local month_ttl = tonumber(ARGV[10])
local day_field = ARGV[13]

local debt = bucket_debt(KEYS[1])

-- The counters: what they hold; a missing one (a new period, or Redis lost it) starts from the
-- ledger's seed, which is written even if the check is denied, when its quota counts. The hash
-- expires when its month ends: set whenever a counter is created (the hash may be new then; once a
-- day at most otherwise, to the same instant). counter(): a counter as held or, missing, its seed
-- when its quota counts and the ledger has usage; and whether it must be written for that.
local function counter(value, quota, seed)
  if value then
    return value, false
  end
  seed = tonumber(seed) or 0
  if quota > 0 and seed > 0 then
    return seed, true
  end
  return 0, false
end

local held = redis.call('HMGET', KEYS[2], day_field, 'm')
local day_missing = not held[1]
local month_missing = not held[2]
local day, day_write = counter(tonumber(held[1]), day_quota, ARGV[11])
local month, month_write = counter(tonumber(held[2]), month_quota, ARGV[12])

local violated = 0
local retry = 0
if month_quota > 0 and month + need > month_quota then
  violated = 3
  retry = month_ttl
elseif day_quota > 0 and day + need > day_quota then
  violated = 2
  retry = day_ttl
elseif debt * limit > (burst - need) * period then
  violated = 1
  retry = cdiv(debt - idiv((burst - need) * period, limit), 1000)
end

if violated == 0 and cost > 0 then
  debt = debt + cdiv(cost * period, limit)
  redis.call('SET', KEYS[1], string.format('%d', now + debt), 'PX', string.format('%d', cdiv(debt, 1000)))
  if day_quota > 0 then
    day = day + cost
    day_write = true
  end
  if month_quota > 0 then
    month = month + cost
    month_write = true
  end
end
-- one write of the counters that changed (their new values, or the seeds of a denied check)
if day_write and month_write then
  redis.call('HSET', KEYS[2], day_field, string.format('%d', day), 'm', string.format('%d', month))
elseif day_write then
  redis.call('HSET', KEYS[2], day_field, string.format('%d', day))
elseif month_write then
  redis.call('HSET', KEYS[2], 'm', string.format('%d', month))
end
if (day_write and day_missing) or (month_write and month_missing) then
  redis.call('PEXPIRE', KEYS[2], month_ttl)
end

local allowed = 0
if violated == 0 then
  allowed = 1
end
local reply = answer(allowed, burst - cdiv(debt * limit, period), cdiv(debt, 1000), retry)
reply[6] = day
reply[7] = month
reply[8] = violated
return reply
