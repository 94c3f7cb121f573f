-- A plan check: the plan's token bucket and its daily and monthly quotas, decided and taken
-- together in one atomic step, in one hash per account and month (the account's hash tag, so one
-- shard and one round trip).
--
-- KEYS[1]  the month's hash  "<prefix>{rate:<account>}:q:<yyyy-mm in the plan's zone>":
--          field "m" the month's counter, field ARGV[13] (the day, "<yyyy-mm-dd>") each day's
--          counter, field "tb" the bucket's state (the µs when it is full again, as token_bucket.lua's
--          key). One HMGET and one HSET per check instead of a GET and a SET of the bucket plus the
--          counters' read and write (docs/benchmarks.md). The hash expires when the month ends (or,
--          if later, when the bucket is full again).
-- KEYS[2]  the previous month's hash: a month's first checks take the bucket from there, so that a
--          new month does not hand out a fresh burst.
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
-- debt_of, answer)

if cost < 0 then
  return redis.error_reply('plan checks are not refunded')
end
local day_quota = tonumber(ARGV[7])
local day_ttl = tonumber(ARGV[8])
local month_quota = tonumber(ARGV[9])
local month_ttl = tonumber(ARGV[10])
local day_field = ARGV[13]

-- The counters: what they hold; a missing one (a new period, or Redis lost it) starts from the
-- ledger's seed, which is written even if the check is denied, when its quota counts.
-- counter(): a counter as held or, missing, its seed when its quota counts and the ledger has
-- usage; and whether it must be written for that.
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

local held = redis.call('HMGET', KEYS[1], day_field, 'm', 'tb')
-- the bucket: this month's, or (none yet this month) the month before's
local before = false
if not held[3] then
  before = redis.call('HGET', KEYS[2], 'tb')
end
local debt = debt_of(tonumber(held[3] or before))
-- bucket_state: what the bucket's field becomes (nil: unchanged). A bucket still in debt in the
-- month before moves into this month's hash even if the check is denied, so that the month after
-- finds it too.
local bucket_state = nil
if before and debt > 0 then
  bucket_state = before
end
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
  bucket_state = string.format('%d', now + debt)
  if day_quota > 0 then
    day = day + cost
    day_write = true
  end
  if month_quota > 0 then
    month = month + cost
    month_write = true
  end
end
-- one write of the fields that changed: the bucket, the counters (their new values, or the seeds
-- of a denied check)
if bucket_state or day_write or month_write then
  local fields = {}
  if bucket_state then
    fields[#fields + 1] = 'tb'
    fields[#fields + 1] = bucket_state
  end
  if day_write then
    fields[#fields + 1] = day_field
    fields[#fields + 1] = string.format('%d', day)
  end
  if month_write then
    fields[#fields + 1] = 'm'
    fields[#fields + 1] = string.format('%d', month)
  end
  redis.call('HSET', KEYS[1], unpack(fields))
  -- the hash expires when its month ends, or when the bucket is full again if that is later (the
  -- month's last minutes of a long period): set when a field is created (the hash may be new; once
  -- a day at most otherwise, to the same instant) and when the bucket outlives the month
  local keep = cdiv(debt, 1000)
  local created = (day_write and not held[1]) or (month_write and not held[2]) or (bucket_state and not held[3])
  if created or (bucket_state and keep > month_ttl) then
    if keep < month_ttl then
      keep = month_ttl
    end
    redis.call('PEXPIRE', KEYS[1], keep)
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
