-- Token bucket: one atomic read-decide-update. State format version 2.
--
-- KEYS[1]  the bucket: "<prefix>{<policy>:<escaped key>}:tb" (one hash tag per subject)
-- ARGV[1]  burst      capacity in tokens, >= 1
-- ARGV[2]  limit      tokens added per period, >= 1
-- ARGV[3]  period     period in microseconds, >= 1000; burst * period <= 2^52
-- ARGV[4]  cost       tokens to take, >= 0; 0 = look only: decide whether 1 token is there, write nothing
-- ARGV[5]  now        microseconds since the epoch, or -1 to read the shard's clock with TIME
--
-- Returns {allowed (1|0), remaining, reset_ms, retry_after_ms, now_us}:
--   remaining       whole tokens left after this decision
--   reset_ms        milliseconds until the bucket is full again, rounded up
--   retry_after_ms  when denied, milliseconds until `cost` (for a look: 1) tokens are there; else 0
--   now_us          the clock reading the decision was taken at, in microseconds
--
-- State: one integer, F, the time (microseconds) at which the bucket is full again -- the
-- token bucket in its GCRA form. With debt D = F - now (clamped to [0, time to fill]) the bucket
-- holds burst - D * limit / period tokens; taking c tokens adds ceil(c * period / limit) to F.
-- A charge (prelude.lua: force) may take D up to twice the time to fill: an overdraft of up to one
-- burst, during which the bucket holds nothing and reset and retry count the whole wait.
-- One integer is stored by Redis as an int-encoded object: the smallest state a bucket can have.
-- F never decreases, so a clock reading that runs backwards can only make a decision stricter,
-- never hand out tokens again. Rounding the added time up to whole microseconds never admits
-- more than the bucket allows (at most 1 us of refill is lost per admitted check).
-- Every write sets PX to the time until the bucket is full, so an idle subject disappears
-- exactly when it would be indistinguishable from a fresh one.
--
-- All arithmetic stays on integers below 2^53 (the caller bounds burst * period by 2^52), so
-- Lua's doubles are exact and the Java twin (dev.sluice.core.TokenBucket) gets the same numbers.

-- (prelude.lua, prepended at load: idiv, cdiv, burst, limit, period, cost, need, now, extra,
-- force, bucket_debt, answer)

if cost < 0 then
  -- refund: move F back by the time the units added; past F means full, so the state goes
  local f = tonumber(redis.call('GET', KEYS[1]))
  if f then
    f = f - cdiv(-cost * period, limit)
    if f > now then
      redis.call('SET', KEYS[1], string.format('%d', f), 'PX', string.format('%d', cdiv(f - now, 1000)))
    else
      redis.call('DEL', KEYS[1])
    end
  end
  return answer(1, 0, 0, 0)
end

-- owed: the debt as stored, beyond the time to fill after a charge's overdraft (the wait it owes;
-- also after a lowered limit); debt: the same clamped to the time to fill, for the tokens held
local full_at = tonumber(redis.call('GET', KEYS[1]))
local owed = 0
if full_at and full_at > now then
  owed = full_at - now
end
local fill = cdiv(burst * period, limit)
local debt = owed
if debt > fill then
  debt = fill
end

local allowed = 0
local retry = 0
if force then
  -- a charge: taken whole, up to one burst of overdraft (a debt of twice the time to fill)
  allowed = 1
  local before = owed
  owed = owed + cdiv(cost * period, limit)
  if owed > 2 * fill then
    owed = math.max(before, 2 * fill)
  end
  debt = owed
  if debt > fill then
    debt = fill
  end
  redis.call('SET', KEYS[1], string.format('%d', now + owed), 'PX', string.format('%d', cdiv(owed, 1000)))
elseif debt * limit <= (burst - need) * period then
  allowed = 1
  if cost > 0 then
    debt = debt + cdiv(cost * period, limit)
    redis.call('SET', KEYS[1], string.format('%d', now + debt), 'PX', string.format('%d', cdiv(debt, 1000)))
  end
  owed = debt
else
  retry = cdiv(owed - idiv((burst - need) * period, limit), 1000)
end

return answer(allowed, burst - cdiv(debt * limit, period), cdiv(owed, 1000), retry)
