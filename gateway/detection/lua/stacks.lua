-- Record one request's client stack for an account (gateway/detection/stacks.py has the rule).
-- KEYS[1]: the account's recent stacks (stacks), ONE string of runs, the newest first: per
-- run the stack's 8 bytes (unsigned, big-endian) and how many requests in a row sent it (one
-- byte, 1..255; a longer run is split). An account with one stack takes 9 bytes, not a list
-- of `recent` entries. The earlier layout (a list of the stacks' decimal text, LPUSH'd and
-- LTRIM'd) is read and rewritten in this one by the next request.
-- ARGV: the stack (its 8 bytes), recent (stacks kept), ttl (seconds).
-- Returns { stacks kept, how many of them are distinct }: the same as the list's LPUSH,
-- LTRIM 0 recent-1, LRANGE (its length and distinct members).
local stack, recent, ttl = ARGV[1], tonumber(ARGV[2]), ARGV[3]
local WIDTH, MOST = 9, 255

-- the 8 big-endian bytes of a whole number's decimal text (below 2^64; exact, by long
-- division of the digits: a Lua number holds 53 bits)
local function decimal_bytes(text)
  local digits = {}
  for i = 1, #text do digits[i] = string.byte(text, i) - 48 end
  local out = {}
  for b = 8, 1, -1 do
    local rest, quotient = 0, {}
    for i = 1, #digits do
      local cur = rest * 10 + digits[i]
      quotient[i] = math.floor(cur / 256)
      rest = cur % 256
    end
    out[b] = string.char(rest)
    digits = quotient
  end
  return table.concat(out)
end

local stacks, counts = {}, {} -- runs, newest first
local packed = redis.pcall('GET', KEYS[1])
if type(packed) == 'table' and packed.err then -- a list (the earlier layout), newest first
  for _, text in ipairs(redis.call('LRANGE', KEYS[1], 0, -1)) do
    local bytes = decimal_bytes(text)
    local last = #stacks
    if last > 0 and stacks[last] == bytes and counts[last] < MOST then
      counts[last] = counts[last] + 1
    else
      stacks[last + 1], counts[last + 1] = bytes, 1
    end
  end
  redis.call('DEL', KEYS[1])
elseif packed then
  for at = 1, #packed, WIDTH do
    stacks[#stacks + 1] = string.sub(packed, at, at + 7)
    counts[#counts + 1] = string.byte(packed, at + 8)
  end
end
if stacks[1] == stack and counts[1] < MOST then
  counts[1] = counts[1] + 1
else
  table.insert(stacks, 1, stack)
  table.insert(counts, 1, 1)
end
local kept, distinct, parts, seen = 0, 0, {}, {}
for i = 1, #stacks do
  if kept >= recent then break end
  local count = math.min(counts[i], recent - kept)
  kept = kept + count
  if not seen[stacks[i]] then
    seen[stacks[i]] = true
    distinct = distinct + 1
  end
  parts[#parts + 1] = stacks[i] .. string.char(count)
end
redis.call('SET', KEYS[1], table.concat(parts), 'EX', ttl)
return { kept, distinct }
