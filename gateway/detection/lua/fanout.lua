-- Template fan-out: add accounts to a template's senders (a HyperLogLog), in order, and count
-- them after each add (a batch's sightings of one template in one call; adding an account
-- again changes nothing, so a replayed sighting is harmless).
-- KEYS[1]: the template's HyperLogLog. ARGV: 1 TTL seconds (idle expiry), 2.. accounts.
-- Returns the (approximate) number of distinct senders after each add.
local out, count = {}, -1
for i = 2, #ARGV do
  if redis.call('PFADD', KEYS[1], ARGV[i]) == 1 or count < 0 then
    count = redis.call('PFCOUNT', KEYS[1])
  end
  out[#out + 1] = count
end
redis.call('EXPIRE', KEYS[1], ARGV[1])
return out
