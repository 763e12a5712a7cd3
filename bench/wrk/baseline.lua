-- The bare Hummingbird route: /u/user<N>
local users = tonumber(os.getenv("BENCH_USERS") or "100000")
math.randomseed(os.time())
request = function()
  return wrk.format("GET", "/u/user" .. math.random(0, math.min(users, 100000) - 1))
end
