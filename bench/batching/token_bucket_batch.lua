#!lua flags=allow-cross-slot-keys
-- A measurement aid, not part of Sluice (bench/script-batching.sh): the token bucket of
-- lua/token_bucket.lua for every key in KEYS in one call, to price what batching several subjects
-- of one Redis node into one script would save on the Redis side. Same arithmetic, no refunds,
-- no look-only, no charge markers; it reads the clock with TIME once for the whole batch.
local function idiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then q = q - 1 elseif (q + 1) * b <= a then q = q + 1 end
  return q
end
local function cdiv(a, b) return idiv(a + b - 1, b) end
local burst = tonumber(ARGV[1]); local limit = tonumber(ARGV[2]); local period = tonumber(ARGV[3]); local cost = tonumber(ARGV[4])
local t = redis.call('TIME'); local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local out = {}
for i = 1, #KEYS do
  local fill = cdiv(burst * period, limit)
  local f = tonumber(redis.call('GET', KEYS[i]))
  local debt = 0
  if f and f > now then debt = f - now; if debt > fill then debt = fill end end
  local allowed, retry = 0, 0
  if debt * limit <= (burst - cost) * period then
    allowed = 1
    debt = debt + cdiv(cost * period, limit)
    redis.call('SET', KEYS[i], string.format('%d', now + debt), 'PX', string.format('%d', cdiv(debt, 1000)))
  else
    retry = cdiv(debt - idiv((burst - cost) * period, limit), 1000)
  end
  out[#out+1] = {allowed, burst - cdiv(debt * limit, period), cdiv(debt, 1000), retry, now}
end
return out
