-- cells.lua: the prelude of the limiter scripts (after now.lua): window headers (read,
-- written, expired) and the semantic cells a novelty key has seen in its window. A window key
-- is a header (i64 window index at bit 0, i64 units used at bit 64); a novelty key is that
-- header and then its cells, in one of two forms:
--   sparse: the header stores the index as -1 - index (negative), then 2 bytes per cell in
--           arrival order: 0x80 + floor(cell / 128), cell % 128 (cells < 2^14 only). Only a
--           first byte has its high bit set, so a plain substring search matches whole
--           entries only;
--   dense:  the index as is, then one bit per cell from bit 128.
-- A window's key starts sparse and turns dense, for the rest of the window, when it would
-- hold more than SPARSE_MAX cells or a cell of 2^14 or more. Both forms answer exactly.
local SPARSE_MAX, SPARSE_CELLS = 256, 16384
-- The functions are made by cells(), which a script calls before its first use of them: a Lua
-- closure is made each time its definition runs (every script run), and most requests have
-- no window or novelty budget.
local cell_entry, header, header_write, window_expire, window_read, novelty_read
local novelty_write, cell_seen, cell_add, cell_remove

local function cells()
  if header then return end
  function cell_entry(cell)
    return string.char(128 + math.floor(cell / 128), cell % 128)
  end

  -- The first bytes of a window or novelty key: the header as BITFIELD reads it (0, 0 for a
  -- missing key), the two i64 decoded from one GETRANGE (a plain window key has no more).
  function header(raw)
    if #raw < 16 then return 0, 0 end
    local index, used = struct.unpack('>i8i8', raw)
    return index, used
  end

  -- Writes a window or novelty key's header: the bytes BITFIELD SET i64 0 / i64 64 would
  -- write (big-endian, two's complement), by one SETRANGE (a third of BITFIELD's time).
  function header_write(key, index, used)
    redis.call('SETRANGE', key, 0, struct.pack('>i8i8', index, used))
  end

  -- Sets the TTL of a window or novelty key to the end of its window `idx` (`now`: now.lua).
  -- Needed only when the key (re)starts: while it counts on in one window the end is the same.
  function window_expire(key, idx, window)
    redis.call('PEXPIRE', key, math.max(1, math.ceil(((idx + 1) * window - now) * 1000)))
  end

  -- A window key's index and units used, and whether the key exists.
  function window_read(key)
    local raw = redis.call('GETRANGE', key, 0, 15)
    local index, used = header(raw)
    return index, used, raw ~= ''
  end

  -- The window index, the units used, whether the key is sparse, (sparse) its entries, and
  -- whether the key exists: one GETRANGE of the header and the most a sparse key holds
  -- (SPARSE_MAX entries; cell_add turns a key dense before it holds more).
  function novelty_read(key)
    local raw = redis.call('GETRANGE', key, 0, 15 + 2 * SPARSE_MAX)
    local index, used = header(raw)
    if index < 0 then return -1 - index, used, true, string.sub(raw, 17), true end
    return index, used, false, nil, raw ~= ''
  end

  function novelty_write(key, sparse, idx, used)
    local stored = idx
    if sparse then stored = -1 - idx end
    header_write(key, stored, used)
  end

  function cell_seen(key, sparse, entries, cell)
    if not sparse then return redis.call('GETBIT', key, 128 + cell) == 1 end
    return cell < SPARSE_CELLS and string.find(entries, cell_entry(cell), 1, true) ~= nil
  end

  -- Adds `cell` (-1: none) to the window `idx` of `key` (whose entries are `entries` when
  -- sparse; a fresh key is sparse with none) and writes the header with `used`. True when it
  -- made the key anew (dense: the TTL went with the old key).
  function cell_add(key, sparse, entries, cell, idx, used)
    local remade = false
    if cell >= 0 then
      if sparse and (cell >= SPARSE_CELLS or #entries >= 2 * SPARSE_MAX) then
        -- the header and 2^14 bits written at once: SETBIT grows a string by doubling its
        -- allocation, a bitmap grown bit by bit took up to twice its bytes
        local bytes = math.floor(math.max(SPARSE_CELLS - 1, cell) / 8) + 1
        redis.call('SET', key, string.rep('\0', 16 + bytes))
        remade = true
        for at = 1, #entries, 2 do
          local hi, lo = string.byte(entries, at, at + 1)
          redis.call('SETBIT', key, 128 + (hi - 128) * 128 + lo, 1)
        end
        sparse = false
      end
      if sparse then
        redis.call('SETRANGE', key, 16 + #entries, cell_entry(cell))
      else
        redis.call('SETBIT', key, 128 + cell, 1)
      end
    end
    novelty_write(key, sparse, idx, used)
    return remade
  end

  -- Removes `cell` from a sparse or dense key (an undone request; `sparse` and `entries` as
  -- novelty_read gave them) and writes the header. True when it rewrote the key (the TTL went
  -- with the old value).
  function cell_remove(key, sparse, entries, cell, idx, used)
    local remade = false
    if cell >= 0 then
      if sparse then
        local at = string.find(entries, cell_entry(cell), 1, true)
        if at then
          local rest = string.sub(entries, 1, at - 1) .. string.sub(entries, at + 2)
          redis.call('SET', key, redis.call('GETRANGE', key, 0, 15) .. rest) -- the TTL: caller
          remade = true
        end
      else
        redis.call('SETBIT', key, 128 + cell, 0)
      end
    end
    novelty_write(key, sparse, idx, used)
    return remade
  end
end
