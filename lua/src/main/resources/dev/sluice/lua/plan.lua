-- A plan check: the plan's token bucket and its daily and monthly quotas, decided and taken
-- together in one atomic step. The three keys share the account's hash tag, so they live on one
-- shard and the step is one round trip.
--
-- KEYS[1]  the bucket            "<prefix>{rate:<account>}:tb"
-- KEYS[2]  the day's counter     "<prefix>{rate:<account>}:qd:<yyyy-mm-dd in the plan's zone>"
-- KEYS[3]  the month's counter   "<prefix>{rate:<account>}:qm:<yyyy-mm in the plan's zone>"
-- ARGV[1..5]  burst, limit, period (µs), cost (>= 0; 0 looks), now: as every script (prelude.lua)
-- ARGV[7]  the daily quota, 0 for none      ARGV[8]   ms until the day ends (the counter's TTL)
-- ARGV[9]  the monthly quota, 0 for none    ARGV[10]  ms until the month ends
-- ARGV[11] the day's usage recorded in the durable ledger, ARGV[12] the month's: a counter that is
--          missing (a new day, or Redis lost it) starts from it, so a flushed or restarted Redis
--          does not hand out a fresh day or month
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

local debt = bucket_debt(KEYS[1])

-- A quota counter: what it holds; when missing (a new period, or Redis lost it), the ledger's seed,
-- written at once with its expiry when the quota counts (so it is restored even if the check is
-- denied). Also answers whether the counter is new: one that exists already has its expiry (the
-- end of its day or month), so only a new one needs PEXPIRE after INCRBY.
local function counter(key, quota, seed, ttl)
  local held = tonumber(redis.call('GET', key))
  if held then
    return held, false
  end
  if quota > 0 and seed > 0 then
    redis.call('SET', key, string.format('%d', seed), 'PX', ttl)
    return seed, true
  end
  return 0, true
end

local day, day_new = counter(KEYS[2], day_quota, tonumber(ARGV[11]) or 0, day_ttl)
local month, month_new = counter(KEYS[3], month_quota, tonumber(ARGV[12]) or 0, month_ttl)

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
    day = redis.call('INCRBY', KEYS[2], cost)
    if day_new then
      redis.call('PEXPIRE', KEYS[2], day_ttl)
    end
  end
  if month_quota > 0 then
    month = redis.call('INCRBY', KEYS[3], cost)
    if month_new then
      redis.call('PEXPIRE', KEYS[3], month_ttl)
    end
  end
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
