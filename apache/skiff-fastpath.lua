-- skiff-fastpath.lua — the serving fast path's decision under lighttpd (mod_magnet,
-- skiff-fastpath-lighttpd.lua; Apache's is configuration, apache/skiff-sites.conf): answer
-- a warm hit from the site's tree (lib/fastpath.h) exactly as skiff-serve would, or return
-- nil and leave the request to skiff-serve. It answers only what it can answer identically:
-- GET or HEAD of a path of plain characters with an entry, no Range, no If-Modified-Since
-- without If-None-Match, an Accept-Encoding without q-values, a blob present on this machine
-- with the entry's size (a cache file not filled yet, evicted or cut short is skiff-serve's:
-- it fills the cache again). apache/mod_skiff_fastpath.c is the same decision in C, which
-- lighttpd runs instead where it is built (mk/lighttpd.mk): a change here goes there too, and
-- check/it_fastpath.sh compares each with skiff-serve.
--
-- A state (M.new) lives as long as the web server's Lua VM and keeps what it read: per Host
-- the site, per site and request target the parsed entry, per entry and encoding what is
-- sent. A site is looked at again once per tick of `now` (the adapters pass a second): the
-- identity of the tree its link points at (a switch is one rename(2) to another tree, and a
-- tree never changes once linked) and, per encoding, that its blob is still present. So a
-- promote or rollback is seen within two seconds: at a tick, through lighttpd's stat cache,
-- which trusts a stat for up to a second of its own clock.
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
	if f[1] ~= "2" or #f < 12 then
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

-- lib/fastpath_match.c fastpath_match_etag (skiff-serve's and the C module's): an If-None-Match list
-- names etag (weak comparison).
function M.listed(list, etag)
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

-- The site's slug of a Host value (nil when it names no site): "{slug}" .. suffix, any case.
function M.slug(host, suffix)
	host = host:lower()
	if #host <= #suffix or host:sub(-#suffix) ~= suffix then
		return nil
	end
	local slug = host:sub(1, #host - #suffix)
	if #slug > 63 or slug:find("[^a-z0-9-]") or slug:find("--", 1, true) then
		return nil
	end
	return slug
end

-- A request path the trees can hold (lib/fastpath_match.c fastpath_match_path).
function M.path_ok(p)
	return #p <= 2048 and p:sub(1, 1) == "/" and not p:find("[^%w._~/-]") and
	    not p:find("//", 1, true) and not p:find("/.", 1, true)
end

-- cfg: tree (fastpath_dir), suffix ("." .. domain, and ":" .. port unless 0 or 80),
-- identity(dir) (a string naming the directory dir resolves to, nil when none),
-- exists(file, size) (nil unless file is there with size bytes, else a value decide returns
-- third), exists_each (true: ask exists on every request rather than once a tick, for a VM
-- among many that each would ask for every blob every second), build(variant) (adds what the server sends a variant with),
-- max (kept hosts, entries and Accept-Encoding values; past it the state starts again).
function M.new(cfg)
	return { cfg = cfg, hosts = {}, sites = {}, codings = {}, n = 0 }
end

-- Counts one more kept value, forgetting everything first when there are too many (a request
-- holding a forgotten site or entry still finishes with it).
local function keep(s)
	if s.n >= s.cfg.max then
		s.hosts, s.sites, s.codings, s.n = {}, {}, {}, 0
	end
	s.n = s.n + 1
end

-- The site of a Host value, or false.
local function site_of(s, host)
	keep(s)
	local cfg = s.cfg
	local slug = cfg.tree and cfg.tree ~= "" and M.slug(host, cfg.suffix)
	local site = false
	if slug then
		site = s.sites[slug]
		if not site then
			site = { dir = cfg.tree .. "/sites/" .. slug, t = false, id = false, entries = {} }
			s.sites[slug] = site
		end
	end
	s.hosts[host] = site
	return site
end

-- What entry e sends for encoding enc: { etag, file, size, headers ({name, value} pairs, ETag
-- and Content-Encoding first), ctype, t, present }, changed by cfg.build (which may drop what
-- its server does not read).
local function variant_of(s, e, enc)
	local f = e.f
	local hash, file, size = f[4], f[5], f[6]
	if enc == "gzip" then
		hash, file, size = f[7], f[8], f[9]
	elseif enc == "br" then
		hash, file, size = f[10], f[11], f[12]
	end
	local etag = '"' .. hash .. '"'
	local headers = { { "ETag", etag } }
	if enc ~= "" then
		headers[#headers + 1] = { "Content-Encoding", enc }
	end
	for i = 13, #f - 1, 2 do
		headers[#headers + 1] = { f[i], f[i + 1] }
	end
	local v = { etag = etag, file = file, size = tonumber(size), headers = headers, ctype = f[3],
		t = false, present = nil }
	s.cfg.build(v)
	e[enc] = v
	return v
end

-- The entry of a request target (raw path and query) of site, or false.
local function entry_of(s, site, target)
	keep(s)
	local path, query = target:match("^([^?]*)%??(.*)$")
	local f = M.path_ok(path) and M.read(site.dir .. path .. "@")
	if f and f[2] == "1" and query ~= "" then
		f = nil
	end
	local e = false
	if f then
		-- mask: which precompressed variants there are (index into a coding's answers)
		e = { f = f, mask = (f[7] ~= "-" and 1 or 0) + (f[10] ~= "-" and 2 or 0) }
		if e.mask == 0 then
			-- the only answer there is: made now, and the fields are no longer needed
			variant_of(s, e, "")
			e.f = nil
		end
	end
	site.entries[target] = e
	return e
end

-- What an Accept-Encoding chooses for each mask of variants: "br", "gzip", "" or false.
local function codings_of(s, ae)
	keep(s)
	local c = {}
	for mask = 0, 3 do
		c[mask] = coding(ae, mask % 2 == 1, mask >= 2) or false
	end
	s.codings[ae] = c
	return c
end

-- The answer to a request: 200 or 304, the variant to send and what cfg.exists said of its
-- file, or nil (skiff-serve answers).
-- now: the current second (a tick: the site and blobs are looked at again when it changes);
-- host, target (raw path and query), and the request headers (nil when absent).
function M.decide(s, now, method, host, target, ae, inm, ims, range)
	if method ~= "GET" and method ~= "HEAD" then
		return nil
	end
	-- skiff-serve answers a Range of a GET; Apache's byterange filter that of a HEAD too
	if range and range ~= "" then
		return nil
	end
	if inm == "" then
		inm = nil
	end
	if not inm and ims and ims ~= "" then
		return nil
	end
	if not host or not target then
		return nil
	end
	local site = s.hosts[host]
	if site == nil then
		site = site_of(s, host)
	end
	if not site then
		return nil
	end
	if site.t ~= now then
		local id = s.cfg.identity(site.dir)
		if id ~= site.id then
			site.id, site.entries = id, {}
		end
		site.t = now
	end
	if not site.id then
		return nil
	end
	local e = site.entries[target]
	if e == nil then
		e = entry_of(s, site, target)
	end
	if not e then
		return nil
	end
	local enc = ""
	if ae and ae ~= "" and e.mask ~= 0 then
		local c = s.codings[ae] or codings_of(s, ae)
		enc = c[e.mask]
		if not enc then
			return nil
		end
	end
	local v = e[enc] or variant_of(s, e, enc)
	local present
	if s.cfg.exists_each then
		present = s.cfg.exists(v.file, v.size)
	else
		if v.t ~= now then
			v.present, v.t = s.cfg.exists(v.file, v.size), now
		end
		present = v.present
	end
	if not present then
		return nil
	end
	if inm and M.listed(inm, v.etag) then
		return 304, v, present
	end
	return 200, v, present
end

return M
