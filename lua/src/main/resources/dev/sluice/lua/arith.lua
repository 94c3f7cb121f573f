-- The integer division every script that computes bucket times or shares uses: LuaScript puts
-- this text first (before prelude.lua for the decision scripts; before region.lua alone).
--
-- idiv(a, b) = floor(a / b) and cdiv(a, b) = ceil(a / b), exact for integers below 2^53 (Lua's
-- numbers are doubles: the quotient is corrected by one step either way).

local function idiv(a, b)
  local q = math.floor(a / b)
  if q * b > a then
    q = q - 1
  elseif (q + 1) * b <= a then
    q = q + 1
  end
  return q
end

local function cdiv(a, b)
  return idiv(a + b - 1, b)
end
