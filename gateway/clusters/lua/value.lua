-- Add an account to a signal value's accounts (account -> last seen); flag hot values.
-- KEYS[1] = the base key of the value's shard (KeyBuilder.cluster_values: the caller picks
-- the shard from the value, see observations_redis.py); suffixes:
--   :s                     hash of the values seen by ONE account: field <value> (below) ->
--                          "<last seen> <account>", and per signal ":<letter>" -> "<next
--                          sweep> <HSCAN cursor>"; TTL: the longest ttl written
--   :v:<signal>:<hash>     zset of the accounts of a value seen by two or more, TTL ttl
--   :hot:<signal>:<hash>   hot flag (the sighting that made it hot, or '1'), TTL ttl
-- A value's accounts are either its record in :s or its zset, never both: a second account
-- moves the record into a zset, and a zset left with the calling account alone goes back to
-- a record. A record is alive while its last seen >= now - ttl (the zset's rule); expired
-- records are dropped by a sweep of the hash, a chunk per call while one is due (a signal's
-- calls sweep its records: they share its ttl). Records stay short (most under 64 bytes),
-- so a shard's hash stays a listpack while it holds at most 128 (Redis's defaults).
-- <value> is the signal's letter (I ip_prefix, T template, Y synchrony; any other signal
-- '<signal>:') and the hash.
-- ARGV: signal, hash, account, now, limit, ttl, sighting id ('': none)
-- Returns {hot (0/1), newly_hot (0/1), new_member (0/1), others...}; the sighting that made
-- the value hot, delivered again, finds it newly hot again (its report, and the copy of the
-- flag that pair.lua reads, may have been lost).
local base = KEYS[1]
local signal, value_hash, account = ARGV[1], ARGV[2], ARGV[3]
local now, limit, ttl = tonumber(ARGV[4]), tonumber(ARGV[5]), tonumber(ARGV[6])
local sighting = ARGV[7] or ''
local SWEEP = 8  -- sweeps of the hash per ttl
local CHUNK = 64  -- fields a sweep reads per call (HSCAN COUNT; a small hash: all of it)
local CODES = { ip_prefix = 'I', template = 'T', synchrony = 'Y' }

local value = signal .. ':' .. value_hash
local singles = base .. ':s'
local letter = CODES[signal] or (signal .. ':')
local field, meta_field = letter .. value_hash, ':' .. letter
local hot_key, set_key = base .. ':hot:' .. value, base .. ':v:' .. value
local floor = now - ttl

local function keep_alive()  -- the hash lives as long as its longest-lived record
  if redis.call('TTL', singles) < math.ceil(ttl) then
    redis.call('EXPIRE', singles, math.ceil(ttl))
  end
end

local function sweep()
  local meta = redis.call('HGET', singles, meta_field)
  local due, cursor = 0, '0'
  if meta then due, cursor = string.match(meta, '^(%S+) (%S+)$') end
  if tonumber(due) > now then return end
  local scan = redis.call('HSCAN', singles, cursor, 'COUNT', CHUNK)
  local found, gone = scan[2], {}
  for j = 1, #found, 2 do
    local name = found[j]
    local ours = string.sub(name, 1, #letter) == letter
    if ours and CODES[signal] then ours = not string.find(name, ':', 2, true) end
    if ours and name ~= field and tonumber(string.match(found[j + 1], '^(%S+)')) < floor then
      gone[#gone + 1] = name
    end
  end
  if #gone > 0 then redis.call('HDEL', singles, unpack(gone)) end
  if scan[1] == '0' then due = math.ceil(now + ttl / SWEEP) end
  redis.call('HSET', singles, meta_field, due .. ' ' .. scan[1])
  keep_alive()
end

local function keep_single(seen)
  redis.call('HSET', singles, field, seen .. ' ' .. account)
  keep_alive()
end

local function make_hot(new_member)
  if sighting == '' then sighting = '1' end
  redis.call('SET', hot_key, sighting, 'EX', math.ceil(ttl))
  redis.call('DEL', set_key)
  redis.call('HDEL', singles, field)
  return {1, 1, new_member}
end

local flag = redis.call('GET', hot_key)
if flag then
  if sighting ~= '' and flag == sighting then return {1, 1, 0} end
  return {1, 0, 0}
end
sweep()

local holder, held_since
local record = redis.call('HGET', singles, field)
if record then
  local seen, who = string.match(record, '^(%S+) (.*)$')
  if tonumber(seen) >= floor then holder, held_since = who, seen end
end
if holder == nil or holder == account then  -- no zset while a record is alive
  if holder == nil then redis.call('ZREMRANGEBYSCORE', set_key, '-inf', '(' .. floor) end
  if holder ~= nil or redis.call('EXISTS', set_key) == 0 then  -- one account: a record
    local new_member = holder == nil and 1 or 0
    if limit < 1 then return make_hot(new_member) end
    keep_single(ARGV[4])
    return {0, 0, new_member}
  end
else  -- a second account: the record becomes a zset
  redis.call('HDEL', singles, field)
  redis.call('ZADD', set_key, held_since, holder)
end

local new_member = redis.call('ZADD', set_key, now, account)
local size = redis.call('ZCARD', set_key)
if size > limit then return make_hot(new_member) end
if size == 1 then  -- the others expired: back to a record
  redis.call('DEL', set_key)
  keep_single(ARGV[4])
  return {0, 0, new_member}
end
redis.call('EXPIRE', set_key, math.ceil(ttl))
local out = {0, 0, new_member}
for _, other in ipairs(redis.call('ZRANGE', set_key, 0, -1)) do
  if other ~= account then out[#out + 1] = other end
end
return out
