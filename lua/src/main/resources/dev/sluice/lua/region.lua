-- One subject's region state under a global policy (docs/multi-region.md): its demand in this
-- region, what the peer regions last said of theirs, and the share of the policy this region
-- decides on. Stands alone (no prelude). Java twin: dev.sluice.region.RegionShares.
--
-- KEYS[1]  the state, a hash, in the subject's hash tag ("<prefix>{<policy>:<key>}:gr"):
--   ck, c, cp   this region's demand: units asked in period ck of S (c) and in period ck - 1 (cp);
--               written by the decision scripts (prelude.lua)
--   sn          this region's share, in 1/10000, which every decision reads
--   a           this region's demand as low as any peer region may hold it: lowered to a demand
--               before that demand is shipped, raised to it once every peer region has taken it
--   sk          the last period whose demand this region claimed for shipping
--   d:<r> v:<r> h:<r>   peer region r's demand, the period it counts, when it was heard (µs)
-- ARGV[1]  the operation: 'ship', 'acked' or 'apply' (below)
-- ARGV[2]  S, the sync period, in µs
-- ARGV[3]  R, the number of regions
-- ARGV[4]  f, the demand every region is counted with on top of its own (units per S, >= 1)
-- ARGV[5]  how long the state lives idle, in ms (at least the peer expiry)
-- ARGV[6]  the peer expiry in µs: a peer not heard of for longer no longer counts
--
-- 'ship'            claims the last complete period's demand for shipping, once per region and
--                   period: {1, demand, period, sn, raise}, or {0, demand, period, sn} when another
--                   node has claimed it; lowers `a` to the demand first (it may reach a peer at
--                   once); raise is 1 when the demand is above `a`, which only 'acked' then lifts
-- 'acked'  ARGV[7] the period shipped, ARGV[8] the demand, ARGV[9] '1' when every peer region took
--                   it: `a` becomes that demand if no later period was claimed since; {sn}
-- 'apply'  ARGV[7] the origin region, ARGV[8] the period, ARGV[9] its demand: kept when newer than
--                   what is held of that region (duplicates and late arrivals change nothing but
--                   the time it was heard); {1 applied | 0, sn}
-- 'read'            {sn, own demand, a, the peers' demand that counts}
--
-- The share: sn = floor(10000 * (f + x) / (R * f + x + sum of the peers' demands)), where x is this
-- region's last complete period's demand, but no more than `a`. Every region holds each other's
-- demand at or above that region's own x, so the shares of all regions add up to at most 10000.

local S = tonumber(ARGV[2])
local R = tonumber(ARGV[3])
local F = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local expiry = tonumber(ARGV[6])

local function idiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then
    q = q - 1
  elseif (q + 1) * b <= a then
    q = q + 1
  end
  return q
end

local h = {}
local flat = redis.call('HGETALL', KEYS[1])
for i = 1, #flat, 2 do
  h[flat[i]] = flat[i + 1]
end

local k = idiv(now, S)
local function demand()
  local ck = tonumber(h['ck'])
  if ck == k then
    return tonumber(h['cp']) or 0
  elseif ck == k - 1 then
    return tonumber(h['c']) or 0
  end
  return 0
end

local function peers()
  local sum = 0
  for field, value in pairs(h) do
    if string.sub(field, 1, 2) == 'd:' then
      local r = string.sub(field, 3)
      local heard = tonumber(h['h:' .. r])
      if heard and now - heard <= expiry then
        sum = sum + tonumber(value)
      end
    end
  end
  return sum
end

local function own()
  local x = demand()
  local a = tonumber(h['a']) or 0
  if x > a then
    x = a
  end
  return x
end

local function reshare()
  local x = own()
  local sn = idiv(10000 * (F + x), R * F + x + peers())
  h['sn'] = sn
  redis.call('HSET', KEYS[1], 'sn', sn)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return sn
end

local op = ARGV[1]
if op == 'ship' then
  local d = demand()
  local sk = tonumber(h['sk'])
  if sk and sk >= k - 1 then
    return {0, d, k - 1, tonumber(h['sn']) or 0}
  end
  local a = tonumber(h['a']) or 0
  local raise = 0
  if d < a then
    a = d
  elseif d > a then
    raise = 1
  end
  h['a'] = a
  redis.call('HSET', KEYS[1], 'sk', string.format('%d', k - 1), 'a', a)
  return {1, d, k - 1, reshare(), raise}
elseif op == 'acked' then
  if ARGV[9] == '1' and tonumber(h['sk']) == tonumber(ARGV[7]) then
    h['a'] = ARGV[8]
    redis.call('HSET', KEYS[1], 'a', ARGV[8])
  end
  return {reshare()}
elseif op == 'apply' then
  local r = ARGV[7]
  local period = tonumber(ARGV[8])
  local held = tonumber(h['v:' .. r])
  local applied = 0
  if held == nil or period > held then
    h['d:' .. r] = ARGV[9]
    h['v:' .. r] = ARGV[8]
    redis.call('HSET', KEYS[1], 'd:' .. r, ARGV[9], 'v:' .. r, ARGV[8])
    applied = 1
  end
  h['h:' .. r] = string.format('%d', now)
  redis.call('HSET', KEYS[1], 'h:' .. r, h['h:' .. r])
  return {applied, reshare()}
elseif op == 'read' then
  return {tonumber(h['sn']) or -1, demand(), tonumber(h['a']) or 0, peers()}
end
return redis.error_reply('region.lua: unknown operation ' .. tostring(op))
