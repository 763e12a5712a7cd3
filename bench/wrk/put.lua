-- PUT a random user's presence with an admin token (BENCH_TOKEN)
local users = tonumber(os.getenv("BENCH_USERS") or "100000")
local token = os.getenv("BENCH_TOKEN")
local statuses = { "online", "away", "busy" }
math.randomseed(os.time())
wrk.method = "PUT"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
request = function()
  local body = '{"status":"' .. statuses[math.random(1, 3)] .. '","message":"bench","ttl":300}'
  return wrk.format("PUT", "/api/v2/presence/user" .. math.random(0, users - 1), nil, body)
end
