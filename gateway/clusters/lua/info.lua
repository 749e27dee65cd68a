local r = redis.call('HGET', base .. ':r', ARGV[1]) or ARGV[1]
return {r, size_of(r)}
