-- GET 100 random seeded users in one request
local users = tonumber(os.getenv("BENCH_USERS") or "100000")
math.randomseed(os.time())
request = function()
  local ids = {}
  for i = 1, 100 do ids[i] = "user" .. math.random(0, users - 1) end
  return wrk.format("GET", "/api/v2/presence?users=" .. table.concat(ids, ","))
end
