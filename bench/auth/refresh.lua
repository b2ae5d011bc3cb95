-- wrk script: every connection rotates its own refresh-token chain through POST /refresh.
-- Tokens come from TOKENS_FILE (one per line); each thread takes every nth line.
local tokens = {}
local thread_index = 0
local counter = 0

function setup(thread)
  thread:set("index", counter)
  counter = counter + 1
end

function init(args)
  local n = tonumber(os.getenv("WRK_THREADS") or "2")
  local i = 0
  for line in io.lines(os.getenv("TOKENS_FILE")) do
    if i % n == index then table.insert(tokens, line) end
    i = i + 1
  end
end

function request()
  local t = table.remove(tokens, 1)
  if t == nil then t = "exhausted-token-pool-xxxxxxxxxxxxxxxxxxxxxxxxxx" end
  return wrk.format("POST", "/refresh", {["Content-Type"] = "application/json"},
                    '{"refresh_token":"' .. t .. '"}')
end

function response(status, headers, body)
  local t = body:match('"refresh_token":"([^"]+)"')
  if t then table.insert(tokens, t) end
end
