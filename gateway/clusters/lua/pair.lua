-- Record that a soft signal agreed for (account, other) on a day; return qualifying pairs.
-- KEYS[1] = the base key of the pairs' shard (KeyBuilder.cluster_pairs: the caller sends each
-- pair to its shard, see observations_redis.py); suffixes:
--   :p:<pair>             hash "s:<signal>:<day>" -> value hash, "n:<signal>:<day>" -> count,
--                         "o:<signal>:<day>:<occurrence>" (counted), and when setting the
--                         signal-day made a match: "by:<signal>:<day>" -> the sighting that
--                         set it, "m:<signal>:<day>" -> the match ("n|signal|hash|days|...")
--   :hot:<signal>:<hash>  hot flags (hot values do not count): copies of value.lua's, written
--                         in every shard by observations_redis.add_values when a value turns hot
-- ARGV: one or more notes, in order, each: account, signal, hash, day, need, min_signals,
--       repeat_days, ttl, occurrence ('': none), sighting id ('': none), the number of
--       others K, then the K others. Exactly the effect of one call per note, in order.
-- A signal that needs `need` co-occurrences counts each occurrence once (until the day is
-- set); the sighting that set a signal-day, delivered again, gets the match it got then
-- (its link may have been lost): a redelivered sighting changes no evidence.
-- Returns per note a flat list: other, n, then n triples (signal, value hash, days), per
-- match.
local base = KEYS[1]
local replies = {}
local at = 1
while at <= #ARGV do
  local account, signal, value_hash, day = ARGV[at], ARGV[at + 1], ARGV[at + 2], ARGV[at + 3]
  local need, min_signals = tonumber(ARGV[at + 4]), tonumber(ARGV[at + 5])
  local repeat_days, ttl = tonumber(ARGV[at + 6]), math.ceil(tonumber(ARGV[at + 7]))
  local occurrence, sighting = ARGV[at + 8], ARGV[at + 9]
  local first = at + 11
  at = first + tonumber(ARGV[at + 10])
  local set_field = 's:' .. signal .. ':' .. day
  local by_field = 'by:' .. signal .. ':' .. day
  local out = {}
  for i = first, at - 1 do
    local other = ARGV[i]
    local pair = account .. '|' .. other
    if other < account then pair = other .. '|' .. account end
    local pkey = base .. ':p:' .. pair
    local ready = true
    if need > 1 and redis.call('HEXISTS', pkey, set_field) == 0 then
      local counter = 'n:' .. signal .. ':' .. day
      local new = 1
      if occurrence ~= '' then
        new = redis.call('HSETNX', pkey, 'o:' .. signal .. ':' .. day .. ':' .. occurrence, 1)
      end
      local count
      if new == 1 then
        count = redis.call('HINCRBY', pkey, counter, 1)
      else
        count = tonumber(redis.call('HGET', pkey, counter) or '0')
      end
      ready = count >= need
    end
    local fresh, again = 0, false
    if ready then
      fresh = redis.call('HSETNX', pkey, set_field, value_hash)
      if fresh == 0 and sighting ~= '' and redis.call('HGET', pkey, by_field) == sighting then
        again = true
      end
    end
    redis.call('EXPIRE', pkey, ttl)
    if again then
      local stored = redis.call('HGET', pkey, 'm:' .. signal .. ':' .. day)
      if stored then
        out[#out + 1] = other
        for token in string.gmatch(stored, '([^|]+)') do out[#out + 1] = token end
      end
    elseif fresh == 1 then
      local days, latest, order = {}, {}, {}
      local fields = redis.call('HGETALL', pkey)
      for j = 1, #fields, 2 do
        local sig, d = string.match(fields[j], '^s:(.*):(%d+)$')
        local vh = fields[j + 1]
        if sig and redis.call('EXISTS', base .. ':hot:' .. sig .. ':' .. vh) == 0 then
          if not days[sig] then days[sig] = 0; order[#order + 1] = sig end
          days[sig] = days[sig] + 1
          if not latest[sig] or tonumber(d) > latest[sig][1] then
            latest[sig] = {tonumber(d), vh}
          end
        end
      end
      local most = 0
      for _, sig in ipairs(order) do if days[sig] > most then most = days[sig] end end
      if #order >= min_signals or most >= repeat_days then
        local match = { #order }
        for _, sig in ipairs(order) do
          match[#match + 1] = sig
          match[#match + 1] = latest[sig][2]
          match[#match + 1] = days[sig]
        end
        out[#out + 1] = other
        for _, token in ipairs(match) do out[#out + 1] = token end
        if sighting ~= '' then  -- only a match needs its sighting: nothing else is given again
          redis.call('HSET', pkey, by_field, sighting,
                     'm:' .. signal .. ':' .. day, table.concat(match, '|'))
        end
      end
    end
  end
  replies[#replies + 1] = out
end
return replies
