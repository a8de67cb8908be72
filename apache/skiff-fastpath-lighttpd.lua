-- skiff-fastpath-lighttpd.lua — lighttpd's mod_magnet side of the serving fast path
-- (skiff-fastpath.lua, beside this file, decides). The site block names the fast path's
-- directory (fastpath_dir of skiff.conf) as its server.document-root and runs this script at
-- two stages, magnet.attract-raw-url-to and magnet.attract-physical-path-to; skiff writes the
-- sites' host suffix into that directory (lib/fastpath.h, "suffix"). Returning nothing hands
-- the request on (in the end to mod_fastcgi, skiff-serve), as does everything until
-- skiff-serve has written the suffix.
--
-- Both stages share this script's Lua VM. The document root exists only from the physical
-- stage on, so the first request learns it there; from then on hits are answered at the raw
-- stage, before lighttpd decodes the path, builds the physical path and offers the request to
-- its other modules (callgrind: 3,900 of a hit's 31,600 instructions with 1,000 files in
-- turn, 900 of 28,700 for one file). A request declined at the raw stage is decided again,
-- the same way, at the physical stage. Answering that early is exact because only targets of
-- plain characters without "//" or a "/." are answered (the shared decision's path_ok),
-- which decoding leaves as they are, and the sites' block has no rule of its own
-- (url.access-deny, rewrites) for them.
--
-- mod_magnet runs this chunk for every request in one Lua VM per script and clears its
-- globals after each run; what lasts is kept in package.loaded: the decision's state, and
-- lighty.r's objects, which mod_magnet makes once and points at each request in turn. When
-- this file changes mod_magnet loads it again into the same VM with a new lighty table:
-- everything kept is made again then (the old objects no longer follow the requests). The
-- tick is lighty.c.time(), which moves with the clock of lighttpd's stat cache: the first
-- request of a second looks at the suffix, the site's link and blobs through that cache, as
-- lighttpd looks at its own static files. A warm hit then costs a table lookup or two and
-- hands lighttpd prebuilt tables (lighty.header, lighty.content), which it copies in C.
--
-- Settings do not come through setenv.set-environment: mod_magnet builds the whole request
-- environment before every run of a script whose text holds the name of lighty.r's
-- environment table ("req_" .. "env"), about 5 % of a hit. Keep that name out of this file.
local k = package.loaded["skiff-fastpath-lighttpd"]
if not k or k.lighty ~= lighty then
	local r = lighty.r
	local attr = r.req_attr
	local source = debug.getinfo(1, "S").source
	k = { lighty = lighty, time = lighty.c.time, stat = lighty.c.stat, h = r.req_header,
		attr = attr, t = false, tree = false,
		module = source:match("^@?(.*/)[^/]*$") .. "skiff-fastpath.lua" }
	local fp = dofile(k.module)
	local stat = k.stat
	k.decide = fp.decide
	k.new = function(suffix)
		return fp.new({
			tree = k.tree,
			suffix = suffix,
			max = 100000,
			identity = function(dir)
				local st = stat(dir)
				if not st or not st.is_dir then
					return nil
				end
				local s, ns = st.st_mtim()
				local cs, cns = st.st_ctim()
				return string.format("%d.%d.%d.%d.%d", st.st_ino, s, ns, cs, cns)
			end,
			exists = function(file, size)
				local st = stat(file)
				return st and st.is_file and st.st_size == size or nil
			end,
			build = function(v)
				local h304 = {}
				for _, nv in ipairs(v.headers) do
					h304[nv[1]] = nv[2]
				end
				local h200 = { ["Content-Type"] = v.ctype }
				for name, value in pairs(h304) do
					h200[name] = value
				end
				v.h200, v.h304, v.content = h200, h304, { { filename = v.file } }
				-- kept per entry for the life of the VM: only what a hit reads
				v.headers, v.ctype = nil, nil
			end,
		})
	end
	package.loaded["skiff-fastpath-lighttpd"] = k
end
if not k.tree then
	local root = k.attr["physical.doc-root"]
	if not root or root == "" then
		return
	end
	k.tree = root:gsub("/+$", "")
end
local now = k.time()
if k.t ~= now then
	-- the suffix skiff-serve wrote: a new one (skiff.conf's domain changed) starts afresh
	k.t = now
	local st = k.stat(k.tree .. "/suffix")
	local id = st and st.is_file and string.format("%d.%d", st.st_ino, st.st_mtime) or false
	if id ~= k.suffix_id then
		k.suffix_id, k.state = id, nil
		local fh = id and io.open(k.tree .. "/suffix", "rb")
		local suffix = fh and fh:read("l")
		if fh then
			fh:close()
		end
		if suffix and suffix:sub(1, 1) == "." then
			k.state = k.new(suffix)
		end
	end
end
if not k.state then
	return
end
local h, attr = k.h, k.attr
local status, v = k.decide(k.state, now, attr["request.method"], h["Host"],
	attr["request.uri"], h["Accept-Encoding"], h["If-None-Match"], h["If-Modified-Since"],
	h["Range"])
if status == 200 then
	lighty.header, lighty.content = v.h200, v.content
elseif status then
	lighty.header = v.h304
end
return status
