-- Record that a soft signal agreed for (account, other) on a day; return qualifying pairs.
-- KEYS[1] = the observations base key; suffixes:
--   :p:<pair>             hash "s:<signal>:<day>" -> value hash, "n:<signal>:<day>" -> count
--   :hot:<signal>:<hash>  hot flags (hot values do not count)
-- ARGV: account, signal, hash, day, need, min_signals, repeat_days, ttl, then others.
-- Returns a flat list: other, n, then n triples (signal, value hash, days), per match.
local base = KEYS[1]
local account, signal, value_hash, day = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local need, min_signals = tonumber(ARGV[5]), tonumber(ARGV[6])
local repeat_days, ttl = tonumber(ARGV[7]), math.ceil(tonumber(ARGV[8]))
local out = {}
for i = 9, #ARGV do
  local other = ARGV[i]
  local pair = account .. '|' .. other
  if other < account then pair = other .. '|' .. account end
  local pkey = base .. ':p:' .. pair
  local ready = true
  if need > 1 then
    ready = redis.call('HINCRBY', pkey, 'n:' .. signal .. ':' .. day, 1) >= need
  end
  local fresh = 0
  if ready then fresh = redis.call('HSETNX', pkey, 's:' .. signal .. ':' .. day, value_hash) end
  redis.call('EXPIRE', pkey, ttl)
  if fresh == 1 then
    local days, latest, order = {}, {}, {}
    local fields = redis.call('HGETALL', pkey)
    for j = 1, #fields, 2 do
      local sig, d = string.match(fields[j], '^s:(.*):(%d+)$')
      local vh = fields[j + 1]
      if sig and redis.call('EXISTS', base .. ':hot:' .. sig .. ':' .. vh) == 0 then
        if not days[sig] then days[sig] = 0; order[#order + 1] = sig end
        days[sig] = days[sig] + 1
        if not latest[sig] or tonumber(d) > latest[sig][1] then latest[sig] = {tonumber(d), vh} end
      end
    end
    local most = 0
    for _, sig in ipairs(order) do if days[sig] > most then most = days[sig] end end
    if #order >= min_signals or most >= repeat_days then
      out[#out + 1] = other
      out[#out + 1] = #order
      for _, sig in ipairs(order) do
        out[#out + 1] = sig
        out[#out + 1] = latest[sig][2]
        out[#out + 1] = days[sig]
      end
    end
  end
end
return out
