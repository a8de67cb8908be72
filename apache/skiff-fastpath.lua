-- skiff-fastpath.lua — the serving fast path's decision, shared by lighttpd (mod_magnet,
-- skiff-fastpath-lighttpd.lua) and Apache httpd (mod_lua, skiff-fastpath-apache.lua): answer
-- a warm hit from the site's tree (lib/fastpath.h) exactly as skiff-serve would, or return
-- nil and leave the request to skiff-serve. It answers only what it can answer identically:
-- GET or HEAD of a path of plain characters with an entry, no Range, no If-Modified-Since
-- without If-None-Match, an Accept-Encoding without q-values, a blob present on this machine.
local M = {}

-- The fields of an entry line (tab-separated), or nil when it is not one.
function M.entry(line)
	if not line then
		return nil
	end
	local f = {}
	for v in (line .. "\t"):gmatch("([^\t]*)\t") do
		f[#f + 1] = v
	end
	if f[1] ~= "1" or #f < 9 then
		return nil
	end
	return f
end

-- Reads the entry at path (nil when there is none).
function M.read(path)
	local fh = io.open(path, "rb")
	if not fh then
		return nil
	end
	local line = fh:read("l")
	fh:close()
	return M.entry(line)
end

-- lib/serve_reply.c serve_etag_listed: an If-None-Match list names etag (weak comparison).
local function listed(list, etag)
	local i, n = 1, #list
	while i <= n do
		local c = list:sub(i, i)
		if c == " " or c == "\t" or c == "," then
			i = i + 1
		else
			if c == "*" then
				return true
			end
			if list:sub(i, i + 1) == "W/" then
				i = i + 2
			end
			local e
			if list:sub(i, i) == '"' then
				e = list:find('"', i + 1, true) or n
			else
				local s = list:find("[, \t]", i)
				e = s and s - 1 or n
			end
			if list:sub(i, e) == etag then
				return true
			end
			i = e + 1
		end
	end
	return false
end

-- lib/serve_reply.c's choice of variant, for lists without parameters (others go to skiff-serve):
-- every listed coding has q=1. Returns "br", "gzip", "" (identity) or nil (not decidable here).
local function coding(ae, has_gz, has_br)
	if not ae or ae == "" or not (has_gz or has_br) then
		return ""
	end
	if ae:find("[;=]") then
		return nil
	end
	local br, gz, star = false, false, false
	for item in ae:gmatch("[^,]+") do
		local name = item:match("^[ \t]*([^;, \t]*)"):lower()
		if name == "br" then
			br = true
		elseif name == "gzip" or name == "x-gzip" then
			gz = true
		elseif name == "*" then
			star = true
		end
	end
	if has_br and (br or star) then
		return "br"
	elseif has_gz and (gz or star) then
		return "gzip"
	end
	return ""
end

-- cfg: tree (fastpath_dir), suffix ("." .. domain, and ":" .. port unless 0 or 80),
-- entry(path) (the fields of an entry: M.read, or a cache of it), exists(path). req: method, host, path (raw, without the query), query, ae (Accept-Encoding),
-- inm (If-None-Match), ims (If-Modified-Since), range.
-- Returns nil, or status, headers ({name, value} pairs), content type, file to send.
function M.decide(cfg, req)
	local method = req.method
	if method ~= "GET" and method ~= "HEAD" then
		return nil
	end
	-- skiff-serve answers a Range of a GET; Apache's byterange filter that of a HEAD too
	if req.range and req.range ~= "" then
		return nil
	end
	local inm = req.inm
	if inm == "" then
		inm = nil
	end
	if not inm and req.ims and req.ims ~= "" then
		return nil
	end
	local host, suffix = req.host, cfg.suffix
	if not host or not cfg.tree or cfg.tree == "" then
		return nil
	end
	host = host:lower()
	if #host <= #suffix or host:sub(-#suffix) ~= suffix then
		return nil
	end
	local slug = host:sub(1, #host - #suffix)
	if #slug > 63 or slug:find("[^a-z0-9-]") or slug:find("--", 1, true) then
		return nil
	end
	local p = req.path
	if not p or #p > 2048 or p:sub(1, 1) ~= "/" or p:find("[^%w._~/-]") or
	    p:find("//", 1, true) or p:find("/.", 1, true) then
		return nil
	end
	local f = cfg.entry(cfg.tree .. "/sites/" .. slug .. p .. "@")
	if not f then
		return nil
	end
	if f[2] == "1" and req.query and req.query ~= "" then
		return nil
	end
	local enc = coding(req.ae, f[6] ~= "-", f[8] ~= "-")
	if not enc then
		return nil
	end
	-- what an encoding sends, built once per entry (an entry kept by a cache serves many)
	local sent = f[enc]
	if not sent then
		local hash, file = f[4], f[5]
		if enc == "gzip" then
			hash, file = f[6], f[7]
		elseif enc == "br" then
			hash, file = f[8], f[9]
		end
		local etag = '"' .. hash .. '"'
		local headers = { { "ETag", etag } }
		if enc ~= "" then
			headers[#headers + 1] = { "Content-Encoding", enc }
		end
		for i = 10, #f - 1, 2 do
			headers[#headers + 1] = { f[i], f[i + 1] }
		end
		sent = { headers, file, etag }
		f[enc] = sent
	end
	if not cfg.exists(sent[2]) then
		return nil
	end
	if inm and listed(inm, sent[3]) then
		return 304, sent[1], nil, nil
	end
	return 200, sent[1], f[3], sent[2]
end

return M
