-- PUT one of the three sessions (device0..2) of a random user seeded with three sessions
-- ("sess<N>", presence-bench seed --prefix sess --sessions 3), with an admin token
-- (BENCH_TOKEN): each write recombines the user's three sessions.
local users = tonumber(os.getenv("BENCH_USERS") or "100000")
local token = os.getenv("BENCH_TOKEN")
local statuses = { "online", "away", "busy" }
local sessions = { "device0", "device1", "device2" }
math.randomseed(os.time() + 13)
wrk.method = "PUT"
wrk.headers["Authorization"] = "Bearer " .. token
wrk.headers["Content-Type"] = "application/json"
request = function()
  local body = '{"status":"' .. statuses[math.random(1, 3)] .. '","message":"bench","ttl":300}'
  local path = "/api/v2/presence/sess" .. math.random(0, users - 1) .. "/sessions/" .. sessions[math.random(1, 3)]
  return wrk.format("PUT", path, nil, body)
end
