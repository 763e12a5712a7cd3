-- GET one random seeded user: /api/v2/presence/user<N>
local users = tonumber(os.getenv("BENCH_USERS") or "100000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/api/v2/presence/user" .. math.random(0, users - 1))
end
