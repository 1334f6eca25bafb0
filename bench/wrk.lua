-- One wrk script for every scenario of bench/run.py.
-- BENCH_SCENARIO picks the request; BENCH_DATA names a generated Lua file of tokens and ids;
-- BENCH_TARGETS (accept) the request ids to accept. Each thread counts the statuses it gets
-- and `done` prints them as "STATUS <code> <count>" lines for the driver.
local data = dofile(os.getenv("BENCH_DATA"))
local scenario = os.getenv("BENCH_SCENARIO")
local targets = {}
if os.getenv("BENCH_TARGETS") then
  targets = dofile(os.getenv("BENCH_TARGETS"))
end

local threads = {}
local counter = 0
local nthreads = 1
statuses = {}

function setup(thread)
  thread:set("thread_index", #threads)
  table.insert(threads, thread)
end

function init(args)
  nthreads = tonumber(os.getenv("BENCH_THREADS") or "2")
end

local function pick(list)
  -- Threads interleave over the list, so every entry is used about as often as the others.
  return list[((counter * nthreads + (thread_index or 0)) % #list) + 1]
end

local function bearer(token)
  return { ["Authorization"] = "Bearer " .. token }
end

local function json_headers(token)
  local h = { ["Content-Type"] = "application/json" }
  if token then
    h["Authorization"] = "Bearer " .. token
  end
  return h
end

function request()
  counter = counter + 1
  if scenario == "open" then
    return wrk.format("GET", "/api/interview-requests/open", bearer(pick(data.interviewers)))
  elseif scenario == "session" then
    local pair = pick(data.sessions)
    return wrk.format("GET", "/api/interview-sessions/" .. pair[2], bearer(pair[1]))
  elseif scenario == "create" then
    -- Scheduled 5 h 2 s ahead (whole seconds): the request expires 1 to 2 s after it is made,
    -- so the rule of at most 5 OPEN requests per interviewee does not refuse the benchmark's
    -- own posts at up to 3 a second for each of the seed's 749 interviewees (one of their
    -- slots may hold a seeded OPEN request).
    local at = os.date("!%Y-%m-%dT%H:%M:%SZ", os.time() + 5 * 3600 + 2)
    local body = '{"category":"System-Design","difficulty":"MEDIUM","type":"SYSTEM_DESIGN",'
      .. '"scheduled_at":"' .. at .. '","duration_minutes":60,"note":"bench:create"}'
    return wrk.format("POST", "/api/interview-requests", json_headers(pick(data.interviewees)), body)
  elseif scenario == "accept" then
    -- Both threads walk the same ids, 32 requests each per id: about 64 accepts race for
    -- every request, and exactly one may win.
    local id = targets[(math.floor((counter - 1) / 32) % #targets) + 1]
    local path = "/api/interview-requests/" .. id .. "/accept"
    return wrk.format("POST", path, json_headers(pick(data.interviewers)), "")
  elseif scenario == "login" then
    local body = '{"email":"' .. pick(data.logins) .. '","password":"' .. data.password .. '"}'
    return wrk.format("POST", "/api/auth/login", json_headers(nil), body)
  elseif scenario == "analytics" then
    return wrk.format("GET", "/api/analytics/platform", bearer(data.admin))
  end
  error("unknown BENCH_SCENARIO " .. tostring(scenario))
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
end

function done(summary, latency, requests)
  local total = {}
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for code, n in pairs(counts) do
      total[code] = (total[code] or 0) + n
    end
  end
  for code, n in pairs(total) do
    io.write(string.format("STATUS %d %d\n", code, n))
  end
end
