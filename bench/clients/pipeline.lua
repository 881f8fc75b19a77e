-- wrk script: each request is `depth` GETs of / sent back to back (HTTP/1.1
-- pipelining); wrk counts each response. Usage: wrk -s pipeline.lua URL -- 10
local depth = 10
local batch

function init(args)
  depth = tonumber(args[1]) or depth
  local one = wrk.format("GET", "/")
  batch = string.rep(one, depth)
end

function request()
  return batch
end
