-- Shared by every decision script: LuaScript.load puts arith.lua (idiv, cdiv) and this text in
-- front of each script body, so each EVAL is still one self-contained script (Redis scripts cannot
-- load modules).
--
-- Defines: burst, limit, period, cost from ARGV[1..4]; need = the units a check must find (cost, or
-- 1 for a look, cost 0); now from ARGV[5], or the shard's TIME when it is -1; debt_of(full_at),
-- bucket_debt(key); extra = ARGV[6], the algorithm's own argument (a refund's consumption time, a
-- lease token), or nil; answer(...), the reply every script ends with.
--
-- A charge counted at most once (the reconciliation of usage decided in-process while the store was
-- unreachable, retried after a time-out whose first attempt may have run) says so: `extra` (ARGV[6])
-- is 'charge', KEYS[2] the charge's marker (same hash tag as the subject's key), ARGV[7] the
-- marker's time to live in milliseconds. A marker already there means an earlier attempt of this
-- charge was admitted: this attempt only looks (cost 0). An admitted charge sets its marker in the same step
-- (in answer). A charge not counted yet is `force`d: taken whole even beyond what is left, up to one
-- burst (limit) of overdraft, that the subject's next checks wait out. The usage it carries was
-- admitted already, in-process; capped at what was left, it was lost whenever another node had
-- spent the refill first (docs/resilience.md, "Reconciliation").
--
-- A negative cost is a refund: give back -cost units taken by an admitted check at time `extra`
-- (the compensation of a multi-limit check another limit denied). Every script returns
-- {allowed, remaining, reset_ms, retry_after_ms, now_us}; a refund returns {1, 0, 0, 0, now_us}.

local burst = tonumber(ARGV[1])
local limit = tonumber(ARGV[2])
local period = tonumber(ARGV[3])
local cost = tonumber(ARGV[4])
local once = nil
if cost > 0 and ARGV[6] == 'charge' then
  once = KEYS[2]
  if redis.call('EXISTS', once) == 1 then
    cost = 0
  end
end
local force = once ~= nil and cost > 0
local need = cost
local extra = ARGV[6]
if cost == 0 then
  need = 1
end
local now = tonumber(ARGV[5])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end

-- A global policy's check (multi-region, docs/multi-region.md): ARGV[8] is 'g', ARGV[9] the sync
-- period S in microseconds, ARGV[10] the share a region holds while nothing is known of any demand
-- (in 1/10000: 10000 / R), ARGV[11] how long the region state lives idle (ms), KEYS[#KEYS] the
-- subject's region state (region.lua; same hash tag). The region decides on its share sn/10000 of
-- the bucket: burst times the share, the period divided by it (the rate times the share). A
-- consuming check adds its cost to the region's demand of the current period of S, admitted or not.
-- A share below one token of burst denies until the shares next change (one S).
--
-- A share that grew since the bucket was last decided on (su, in the same hash) gives the bucket
-- no tokens: its state is moved so that it holds as many as it did (and refills faster from there).
-- Without that, a full bucket whose share doubled would hold twice the tokens at once, tokens the
-- other regions' buckets never gave up. So the regions' tokens together never exceed the whole
-- burst, and with shares adding up to at most the whole, no span admits more than burst + rate x
-- span across all regions. A share that shrank takes its tokens down with it.
if ARGV[8] == 'g' then
  local rk = KEYS[#KEYS]
  local st = redis.call('HMGET', rk, 'sn', 'ck', 'c', 'su')
  local sn = tonumber(st[1]) or tonumber(ARGV[10])
  if cost > 0 then
    local k = idiv(now, tonumber(ARGV[9]))
    local ck = tonumber(st[2])
    if ck == k then
      redis.call('HINCRBY', rk, 'c', cost)
    else
      local cp = 0
      if ck == k - 1 then
        cp = tonumber(st[3]) or 0
      end
      redis.call('HSET', rk, 'ck', string.format('%d', k), 'c', cost, 'cp', cp)
      redis.call('PEXPIRE', rk, ARGV[11])
    end
  end
  local su = tonumber(st[4])
  local new_burst = idiv(burst * sn, 10000)
  local new_period = 0
  if sn >= 1 then
    new_period = cdiv(period * 10000, sn)
  end
  if su ~= sn then
    if su and su >= 1 and sn > su and new_burst >= 1 then
      local old_burst = idiv(burst * su, 10000)
      local old_period = cdiv(period * 10000, su)
      local debt = 0
      local full_at = tonumber(redis.call('GET', KEYS[1]))
      if full_at and full_at > now then
        -- up to twice the time to fill: a charge's overdraft (token_bucket.lua) moves with the share
        debt = full_at - now
        local fill = cdiv(old_burst * old_period, limit)
        if debt > 2 * fill then
          debt = 2 * fill
        end
      end
      -- tokens held: old_burst - debt * limit / old_period; the same under the new shape
      local moved = cdiv((new_burst - old_burst) * new_period, limit) + math.ceil(debt * (new_period / old_period)) + 1
      redis.call('SET', KEYS[1], string.format('%d', now + moved), 'PX', string.format('%d', cdiv(moved, 1000)))
    end
    redis.call('HSET', rk, 'su', sn)
    -- a look (cost 0) at a subject with no state creates the hash here: it must expire too
    redis.call('PEXPIRE', rk, ARGV[11])
  end
  burst = new_burst
  if burst < 1 then
    if cost < 0 then
      return {1, 0, 0, 0, now}
    end
    local wait = cdiv(tonumber(ARGV[9]), 1000)
    return {0, 0, wait, wait, now}
  end
  period = new_period
end

-- The token bucket's debt at `now` (token_bucket.lua, plan.lua): how far its state `full_at` (the
-- µs when the bucket is full again; nil for none) lies ahead of now, at most the time to fill the
-- whole burst. bucket_debt(key): the same of the state held in `key`.
local function debt_of(full_at)
  local fill = cdiv(burst * period, limit)
  if full_at and full_at > now then
    local debt = full_at - now
    if debt > fill then
      debt = fill
    end
    return debt
  end
  return 0
end

local function bucket_debt(key)
  return debt_of(tonumber(redis.call('GET', key)))
end

-- Every script's answer: {allowed, remaining (never below 0: a limit may have been lowered under a
-- subject's use), reset_ms, retry_after_ms, now_us}. `now` is read when the answer is built, so a
-- script that moves it (the log's clamp) answers with the time it decided at.
local function answer(allowed, remaining, reset, retry)
  if remaining < 0 then
    remaining = 0
  end
  if once and cost > 0 and allowed == 1 then
    redis.call('SET', once, '1', 'PX', ARGV[7])
  end
  return {allowed, remaining, reset, retry, now}
end
