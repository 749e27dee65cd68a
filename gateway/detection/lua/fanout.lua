-- Template fan-out: add an account to a template's senders (a HyperLogLog) and count them.
-- KEYS[1]: the template's HyperLogLog. ARGV: 1 account, 2 TTL seconds (idle expiry).
-- Returns the (approximate) number of distinct senders.
redis.call('PFADD', KEYS[1], ARGV[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return redis.call('PFCOUNT', KEYS[1])
