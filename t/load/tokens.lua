-- wrk script for t/load/run.sh: GET and POST token requests, alternating,
-- over 64 identities and rooms (so claims and replies vary in length);
-- prebuilt in init(), so that wrk spends no time formatting.
--
--   wrk -s tokens.lua URL
--
-- Every response that is not 2xx is counted by wrk itself ("Non-2xx or 3xx
-- responses"), which the runner looks for.

local reqs = {}
local i = 0

function init(args)
    local n = 64
    for k = 1, n do
        local id = string.format("user-%03d-%s", k, string.rep("x", k % 17))
        local room = string.format("room-%02d", k % 7)
        reqs[#reqs + 1] = wrk.format("GET",
            "/token?room=" .. room .. "&participant=" .. id ..
            "&name=Name%20" .. k .. "&metadata=m" .. k)
        local body = string.format(
            '{"room_name":"%s","participant_identity":"%s",' ..
            '"participant_name":"Name %d","participant_metadata":"m%d",' ..
            '"participant_attributes":{"k%d":"v%d"}}',
            room, id, k, k, k, k)
        reqs[#reqs + 1] = wrk.format("POST", "/token",
            { ["Content-Type"] = "application/json" }, body)
    end
end

function request()
    i = i % #reqs + 1
    return reqs[i]
end
