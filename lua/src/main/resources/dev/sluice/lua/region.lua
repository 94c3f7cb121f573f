-- One subject's region state under a global policy (docs/multi-region.md): its demand in this
-- region, what the peer regions last said of theirs, and the share of the policy this region
-- decides on. After arith.lua (idiv), without the prelude. Java twin: dev.sluice.region.RegionState
-- (the operations) and dev.sluice.region.RegionShares (the math).
--
-- KEYS[1]  the state, a hash, in the subject's hash tag ("<prefix>{<policy>:<key>}:gr"):
--   ck, c, cp   this region's demand: units asked in period ck of S (c) and in period ck - 1 (cp);
--               written by the decision scripts (prelude.lua)
--   sn, su      this region's share, in 1/10000, which every decision reads; the share the bucket
--               was last decided on (prelude.lua)
--   sk          the last period whose demand this region claimed for shipping
--   l:<p> s:<p> per peer region p: the lowest demand of this region p may hold (lowered to a demand
--               before it is sent to p, raised once p took it), and the last period sent to p
--   q:<p>       the periods sent to p and not yet known to be taken, with their demands
--               ("period:demand,...", oldest first, at most 32)
--   d:<r> v:<r> h:<r>   peer region r's demand, the period it counts, when it was heard (µs)
-- ARGV[1]  the operation: 'ship', 'acked', 'apply' or 'read' (below)
-- ARGV[2]  S, the sync period, in µs
-- ARGV[3]  R, the number of regions
-- ARGV[4]  f, the demand every region is counted with on top of its own (units per S, >= 1)
-- ARGV[5]  how long the state lives idle, in ms (at least the peer expiry)
-- ARGV[6]  the peer expiry in µs: a peer not heard of for longer no longer counts
-- ARGV[7]  every peer region's name, comma-separated
-- ARGV[8]  now, in µs since the epoch, or -1 to read the store's clock with TIME (the twin's
--          parity test and a simulator pass their own)
-- ARGV[9]  phi, the share every region holds at least (1/10000): share-floor / R
--
-- 'ship'   ARGV[10] the peers it will be sent to, comma-separated: claims the last complete period's
--                   demand for shipping, once per region and period: {1, demand, period, sn, raise},
--                   or {0, demand, period, sn} when another node has claimed it; first lowers l:<p>
--                   of each peer it goes to (it may reach that peer at once); raise is 1 when one of
--                   them is below the demand, which only 'acked' lifts. A peer it does not go to (one
--                   this node cannot reach) keeps what it holds, and so does l:<p>.
-- 'acked'  ARGV[10] the period shipped, ARGV[11] the demand, ARGV[12] the peers that took it: for
--                   each that still has that period in q:<p>, l:<p> becomes the lowest demand of that
--                   period and of every one sent to it since (p holds one of those now, and never an
--                   older one again), and q:<p> keeps only the later ones; {sn}. (It used to raise
--                   only when nothing had been sent since: with a round trip longer than S and two
--                   nodes a region, a later claim always had, and a region counted itself at its
--                   lowest demand for good — region-sim: FR 0.40 at S 100 ms, RTT 150 ms.)
-- 'apply'  ARGV[10] the origin region, ARGV[11] the period, ARGV[12] its demand: kept when newer than
--                   what is held of that region (duplicates and late arrivals change nothing but
--                   the time it was heard); {1 applied | 0, sn}
-- 'read'            {sn, own demand, the lowest l:<p>, the peers' demand that counts, then per peer
--                   (in ARGV[7]'s order) l:<p>, d:<p> (-1: none) and s:<p> (-1: none)}
--
-- The share: sn = phi + floor((10000 - R * phi) * (f + x) / (R * f + x + sum of the peers' demands)),
-- where x is this region's last complete period's demand, but no more than any l:<p>. Every region
-- holds each other's demand at or above that region's own x, so the fractions add up to at most 1
-- and the shares of all regions to at most R * phi + 10000 - R * phi = 10000.

local S = tonumber(ARGV[2])
local R = tonumber(ARGV[3])
local F = tonumber(ARGV[4])
local PHI = tonumber(ARGV[9])
local now = tonumber(ARGV[8])
if now < 0 then
  local t = redis.call('TIME')
  now = tonumber(t[1]) * 1000000 + tonumber(t[2])
end
local expiry = tonumber(ARGV[6])

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

local function names(list)
  local out = {}
  for name in string.gmatch(list or '', '[^,]+') do
    out[#out + 1] = name
  end
  return out
end

local all = names(ARGV[7])

-- the lowest demand of this region any peer may hold (none sent to a peer yet: 0)
local function lowest()
  local m = nil
  for _, p in ipairs(all) do
    local v = tonumber(h['l:' .. p]) or 0
    if m == nil or v < m then
      m = v
    end
  end
  return m or 0
end

local function own()
  local x = demand()
  local a = lowest()
  if x > a then
    x = a
  end
  return x
end

local function reshare()
  local x = own()
  local sn = PHI + idiv((10000 - R * PHI) * (F + x), R * F + x + peers())
  h['sn'] = sn
  redis.call('HSET', KEYS[1], 'sn', sn)
  redis.call('PEXPIRE', KEYS[1], ARGV[5])
  return sn
end

-- q:<p> as a list of {period, demand}, oldest first, and back
local function sent(p)
  local out = {}
  for k0, d0 in string.gmatch(h['q:' .. p] or '', '(%-?%d+):(%d+)') do
    out[#out + 1] = {tonumber(k0), tonumber(d0)}
  end
  return out
end

local function keep(p, list)
  local parts = {}
  for i, e in ipairs(list) do
    parts[i] = string.format('%d:%d', e[1], e[2])
  end
  if #parts == 0 then
    h['q:' .. p] = nil
    redis.call('HDEL', KEYS[1], 'q:' .. p)
  else
    h['q:' .. p] = table.concat(parts, ',')
    redis.call('HSET', KEYS[1], 'q:' .. p, h['q:' .. p])
  end
end

local op = ARGV[1]
if op == 'ship' then
  local d = demand()
  local sk = tonumber(h['sk'])
  if sk and sk >= k - 1 then
    return {0, d, k - 1, tonumber(h['sn']) or 0}
  end
  local raise = 0
  local period = string.format('%d', k - 1)
  redis.call('HSET', KEYS[1], 'sk', period)
  for _, p in ipairs(names(ARGV[10])) do
    local l = tonumber(h['l:' .. p]) or 0
    if d < l then
      l = d
    elseif d > l then
      raise = 1
    end
    h['l:' .. p] = l
    h['s:' .. p] = period
    redis.call('HSET', KEYS[1], 'l:' .. p, l, 's:' .. p, period)
    local q = sent(p)
    q[#q + 1] = {k - 1, d}
    if #q > 32 then
      table.remove(q, 1)
    end
    keep(p, q)
  end
  return {1, d, k - 1, reshare(), raise}
elseif op == 'acked' then
  local period = tonumber(ARGV[10])
  for _, p in ipairs(names(ARGV[12])) do
    local q = sent(p)
    local found = false
    local low = nil
    local later = {}
    for _, e in ipairs(q) do
      if e[1] == period then
        found = true
      end
      if e[1] >= period then
        if low == nil or e[2] < low then
          low = e[2]
        end
        if e[1] > period then
          later[#later + 1] = e
        end
      end
    end
    if found then
      h['l:' .. p] = low
      redis.call('HSET', KEYS[1], 'l:' .. p, low)
      keep(p, later)
    end
  end
  return {reshare()}
elseif op == 'apply' then
  local r = ARGV[10]
  local period = tonumber(ARGV[11])
  local held = tonumber(h['v:' .. r])
  local applied = 0
  if held == nil or period > held then
    h['d:' .. r] = ARGV[12]
    h['v:' .. r] = ARGV[11]
    redis.call('HSET', KEYS[1], 'd:' .. r, ARGV[12], 'v:' .. r, ARGV[11])
    applied = 1
  end
  h['h:' .. r] = string.format('%d', now)
  redis.call('HSET', KEYS[1], 'h:' .. r, h['h:' .. r])
  return {applied, reshare()}
elseif op == 'read' then
  local out = {tonumber(h['sn']) or -1, demand(), lowest(), peers()}
  for _, p in ipairs(all) do
    out[#out + 1] = tonumber(h['l:' .. p]) or 0
    out[#out + 1] = tonumber(h['d:' .. p]) or -1
    out[#out + 1] = tonumber(h['s:' .. p]) or -1
  end
  return out
end
return redis.error_reply('region.lua: unknown operation ' .. tostring(op))
