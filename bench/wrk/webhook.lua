-- Sends pre-signed SnapTrade webhook deliveries, one per request, in file order. The file (first
-- script argument) holds one delivery per line: the Signature header, a tab, the exact body. Every
-- delivery has its own webhookId, so a receiver does its full first-time work for each.
local deliveries = {}
local next_index = 0

function init(args)
  for line in io.lines(args[1]) do
    local signature, body = line:match("^([^\t]+)\t(.*)$")
    if signature then
      deliveries[#deliveries + 1] = { signature = signature, body = body }
    end
  end
  assert(#deliveries > 0, "no deliveries in " .. args[1])
end

function request()
  -- Past the end the deliveries repeat (a receiver then sees duplicates); the bench sizes the file
  -- so that this does not happen and checks it afterwards.
  next_index = next_index % #deliveries + 1
  local delivery = deliveries[next_index]
  local headers = { ["Content-Type"] = "application/json", ["Signature"] = delivery.signature }
  return wrk.format("POST", nil, headers, delivery.body)
end
