-- Resets an account's plan state (the admin API's reset), atomically. KEYS as plan.lua's:
-- KEYS[1] the bucket, KEYS[2] the day's counter, KEYS[3] the month's counter (one hash tag).
-- ARGV[1], ARGV[2], ARGV[3]: '1' to reset the bucket, the day's counter, the month's counter.
--
-- A counter that exists is set to 0 and keeps its TTL (the end of its day or month), so the next
-- check does not re-seed it from the durable ledger, which may not hold the last second's usage
-- yet. A missing counter is left missing. The bucket is deleted (a full bucket).
-- Returns {day, month}: what the counters held before (-1: missing, or not reset), so that the
-- caller can take the same from the durable ledger.

local out = {-1, -1}
if ARGV[1] == '1' then
  redis.call('DEL', KEYS[1])
end
for i = 2, 3 do
  if ARGV[i] == '1' then
    local held = redis.call('GET', KEYS[i])
    if held then
      out[i - 1] = tonumber(held)
      redis.call('SET', KEYS[i], '0', 'KEEPTTL')
    end
  end
end
return out
