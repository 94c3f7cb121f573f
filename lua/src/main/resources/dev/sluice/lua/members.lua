-- The service nodes that share this store, for the `local` failure mode: each node calls this every
-- heartbeat; the answer is how many nodes beat within the last ttl, this one included.
-- KEYS[1]  sorted set: node id -> last heartbeat (ms, Redis's clock)
-- ARGV[1]  this node's id
-- ARGV[2]  ttl in ms: a node not heard from for this long is no longer counted
-- ARGV[3]  "1": this node is leaving (removed, not added)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local ttl = tonumber(ARGV[2])
if ARGV[3] == '1' then
  redis.call('ZREM', KEYS[1], ARGV[1])
else
  redis.call('ZADD', KEYS[1], now, ARGV[1])
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - ttl)
redis.call('PEXPIRE', KEYS[1], ttl * 2)
return redis.call('ZCARD', KEYS[1])
