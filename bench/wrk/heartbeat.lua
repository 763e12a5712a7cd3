-- Heartbeats at a fixed pace: each connection waits BENCH_DELAY_MS between requests, so
-- connections * 1000 / delay heartbeats a second (100k users every 30 s ≈ 3,333/s).
local users = tonumber(os.getenv("BENCH_USERS") or "100000")
local token = os.getenv("BENCH_TOKEN")
local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "10")
math.randomseed(os.time() + 7)
wrk.method = "POST"
wrk.headers["Authorization"] = "Bearer " .. token
request = function()
  return wrk.format("POST", "/api/v2/presence/user" .. math.random(0, users - 1) .. "/heartbeat")
end
delay = function()
  return pause
end
