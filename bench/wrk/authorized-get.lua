-- GETs the URL with an Authorization header read from a file (first script argument), so the
-- session token never appears on a command line.
function init(args)
  local file = assert(io.open(args[1], "r"))
  wrk.headers["Authorization"] = file:read("*l")
  file:close()
end
