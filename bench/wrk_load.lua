-- wrk script for bench/api_load.py: a bounded closed-loop load (wrk -s wrk_load.lua URL --
-- PER_THREAD MODE RUN_TOKEN). MODE "submit" POSTs one new respondent per request to the
-- URL (a survey's /responses); MODE "get" GETs the URL. Each thread stops after
-- PER_THREAD answers and says so on stdout; bench/api_load.py then interrupts wrk, so
-- the run is bounded by its request count (wrk's -d is only a safety limit). done()
-- prints one JSON line: "wrk-result {...}".

local threads = {}
local thread_count = 0

function setup(thread)
  thread_count = thread_count + 1
  thread:set("thread_number", thread_count)
  table.insert(threads, thread)
end

local staff_groups = {"consultant", "SAS doctor", "trainee", "manager"}

function init(args)
  wanted = tonumber(args[1])
  mode = args[2]
  token = args[3]
  answered = 0
  sent = 0
  unexpected = 0
  first_unexpected = ""
  expect = (mode == "submit") and 201 or 200
  if mode == "submit" then
    wrk.headers["Content-Type"] = "application/json"
  end
end

function request()
  sent = sent + 1
  if mode ~= "submit" then
    return wrk.format("GET")
  end
  local parts = {}
  local n = 0
  for i = 1, 30 do
    -- about 1 answer in 20 missing, as in the simulated batches
    if (sent * 7 + i * 13) % 20 ~= 0 then
      n = n + 1
      parts[n] = string.format('"mes%02d":%d', i, (sent * 3 + i * 7) % 5 + 1)
    end
  end
  local body = string.format(
    '{"responses":[{"respondent":"%s-%d-%d","answers":{%s},' ..
    '"attributes":{"staff_group":"%s","directorate":"directorate %02d"}}]}',
    token, thread_number, sent, table.concat(parts, ","),
    staff_groups[sent % 4 + 1], sent % 12)
  return wrk.format("POST", nil, nil, body)  -- wrk.headers: -H Authorization, Content-Type
end

function response(status, headers, body)
  answered = answered + 1
  if status ~= expect then
    unexpected = unexpected + 1
    if first_unexpected == "" then
      first_unexpected = status .. " " .. string.sub(body or "", 1, 200)
    end
  end
  if answered == wanted then
    -- wrk itself runs until -d; bench/api_load.py ends it (SIGINT) once every thread said so
    io.write("wrk-thread-done\n")
    io.flush()
    wrk.thread:stop()
  end
end

function done(summary, latency, requests)
  local unexpected_total = 0
  local first = ""
  for _, thread in ipairs(threads) do
    unexpected_total = unexpected_total + (thread:get("unexpected") or 0)
    local text = thread:get("first_unexpected") or ""
    if first == "" then first = text end
  end
  local e = summary.errors
  io.write(string.format(
    'wrk-result {"requests":%d,"seconds":%.6f,"p50_us":%d,"p99_us":%d,"max_us":%d,' ..
    '"unexpected":%d,"connect_errors":%d,"read_errors":%d,"write_errors":%d,' ..
    '"timeouts":%d,"first_unexpected":"%s"}\n',
    summary.requests, summary.duration / 1e6, latency:percentile(50), latency:percentile(99),
    latency.max, unexpected_total, e.connect, e.read, e.write, e.timeout,
    (first:gsub('[%c"\\]', " "))))
end
