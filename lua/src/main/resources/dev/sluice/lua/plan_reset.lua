-- Resets an account's plan state (the admin API's reset), atomically. KEYS as plan.lua's: KEYS[1]
-- the month's hash, KEYS[2] the previous month's (one hash tag).
-- ARGV[1], ARGV[2], ARGV[3]: '1' to reset the bucket, the day's counter, the month's counter;
-- ARGV[4] the day's field in the hash (the month's is "m").
--
-- A counter that exists is set to 0 and keeps the hash's TTL (the end of its month), so the next
-- check does not re-seed it from the durable ledger, which may not hold the last second's usage
-- yet. A missing counter is left missing. The bucket's field is removed from both months' hashes
-- (a full bucket: plan.lua takes a missing bucket from the previous month).
-- Returns {day, month}: what the counters held before (-1: missing, or not reset), so that the
-- caller can take the same from the durable ledger.

local out = {-1, -1}
if ARGV[1] == '1' then
  redis.call('HDEL', KEYS[1], 'tb')
  redis.call('HDEL', KEYS[2], 'tb')
end
local fields = {ARGV[4], 'm'}
for i = 1, 2 do
  if ARGV[i + 1] == '1' then
    local held = redis.call('HGET', KEYS[1], fields[i])
    if held then
      out[i] = tonumber(held)
      redis.call('HSET', KEYS[1], fields[i], '0')
    end
  end
end
return out
