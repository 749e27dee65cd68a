-- Prelude of the co-activity scripts (meet.lua, starts.lua, episode.lua):
-- times packed compact. A packed list is a header byte 0xF0 + P and the P leading bytes that
-- every time's big-endian double shares (the times of 2004-2038 share 2 of their 8, 3 within
-- an aligned 2^18-second span: about 3 days), then each time as the other 8 - P bytes of its
-- double (lossless). Varints (lengths, counts): 7 bits a byte, low first, the high bit set on
-- all but the last.
local COMPACT = 240 -- 0xF0
-- co:starts begins with the account's last request time (episode.lua): this byte, then its
-- big-endian double, then the compact starts (below 0xF0: never a compact header)
local LAST_MARK = 238 -- 0xEE

local function with_last(last, rest)
  return string.char(LAST_MARK) .. struct.pack('>d', last) .. rest
end

local function varint(n)
  local out = {}
  while n >= 128 do
    out[#out + 1] = string.char(n % 128 + 128)
    n = math.floor(n / 128)
  end
  out[#out + 1] = string.char(n)
  return table.concat(out)
end

local function read_varint(s, pos)
  local n, scale, b = 0, 1, 0
  repeat
    b = string.byte(s, pos)
    pos = pos + 1
    n = n + (b % 128) * scale
    scale = scale * 128
  until b < 128
  return n, pos
end

-- Is `packed` compact? Then: the shared prefix, its width (8 - P) and where the body starts.
local function compact_header(packed)
  if #packed == 0 or string.byte(packed, 1) < COMPACT then return nil end
  local shared = string.byte(packed, 1) - COMPACT
  return string.sub(packed, 2, 1 + shared), 8 - shared, 2 + shared
end

-- The header of a compact string whose times share `prefix` (0-7 bytes).
local function compact_prefix(prefix)
  return string.char(COMPACT + #prefix) .. prefix
end

-- The 8 bytes of each time in `lists` (a list of lists of times), and the header that packs
-- them all: its prefix is the longest (at most 7 bytes) that every time shares.
local function pack_header(lists)
  local raw, shared, first = {}, 7, nil
  for i, list in ipairs(lists) do
    local bytes = {}
    for j, t in ipairs(list) do
      local b = struct.pack('>d', t)
      bytes[j] = b
      if first == nil then first = b end
      while shared > 0 and string.sub(b, 1, shared) ~= string.sub(first, 1, shared) do
        shared = shared - 1
      end
    end
    raw[i] = bytes
  end
  if first == nil then shared = 0 end
  return raw, shared, compact_prefix(string.sub(first or '', 1, shared))
end
