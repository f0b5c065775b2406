-- wrk script of bench/run. Arguments after `--`: MODE [ARG]
--   getById IDS_FILE [FIELD] [EXTRA]   POST {"<FIELD, default id>": <random line of IDS_FILE>[, EXTRA]}
--                      (EXTRA: more members, e.g. "from":"2026-01-01","to":"2026-03-31")
--   pairs FILE         POST {"bank": <first word>, "nuban": <second word>} of a random line of FILE
--   fixed BODY         POST BODY (one JSON text without spaces)
--   list PAGE:LIMIT    POST {"page": PAGE, "limit": LIMIT}
--   get                GET (banks/list)
-- The bearer key comes from the environment (BENCH_KEY), never from the command line.
-- done() prints one JSON line starting with "BENCH_RESULT " for bench/run to parse.

local mode, arg1
local field = "id"
local extra = ""
local ids = {}
local key = os.getenv("BENCH_KEY") or ""
local counter = 0

thread_n = 0
function setup(thread)
  thread_n = thread_n + 1
  thread:set("thread_n", thread_n)
end

function init(args)
  mode = args[1] or "get"
  arg1 = args[2]
  field = args[3] or "id"
  if args[4] and #args[4] > 0 then extra = "," .. args[4] end
  math.randomseed(os.time() * 1000 + (thread_n or 0) * 7919)
  wrk.headers["Authorization"] = "Bearer " .. key
  if mode == "getById" or mode == "pairs" then
    for line in io.lines(arg1) do
      if #line > 0 then ids[#ids + 1] = line end
    end
    if #ids == 0 then error("no ids in " .. arg1) end
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
  elseif mode == "fixed" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    wrk.body = arg1
  elseif mode == "list" then
    wrk.method = "POST"
    wrk.headers["Content-Type"] = "application/json"
    local page, limit = string.match(arg1, "^(%d+):(%d+)$")
    wrk.body = '{"page": ' .. page .. ', "limit": ' .. limit .. '}'
  else
    wrk.method = "GET"
  end
end

local fixed
function request()
  if mode == "getById" then
    local id = ids[math.random(#ids)]
    return wrk.format(nil, nil, nil, '{"' .. field .. '": "' .. id .. '"' .. extra .. '}')
  elseif mode == "pairs" then
    local bank, nuban = string.match(ids[math.random(#ids)], "^(%S+)%s+(%S+)$")
    return wrk.format(nil, nil, nil, '{"bank": "' .. bank .. '", "nuban": "' .. nuban .. '"}')
  end
  fixed = fixed or wrk.format()
  return fixed
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'BENCH_RESULT {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p99_us": %d, "mean_us": %.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(99), latency.mean))
end
