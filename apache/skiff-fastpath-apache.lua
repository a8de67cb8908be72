-- skiff-fastpath-apache.lua — Apache httpd's mod_lua side of the serving fast path
-- (skiff-fastpath.lua decides), a LuaQuickHandler of the sites' virtual host: it answers
-- before the request is mapped, or declines and the request goes on to skiff-serve. The
-- virtual host sets, with SetEnvIf (which runs before quick handlers, unlike SetEnv):
--   SKIFF_FASTPATH_DIR     fastpath_dir of skiff.conf
--   SKIFF_FASTPATH_MODULE  this directory's skiff-fastpath.lua
--   SKIFF_FASTPATH_SUFFIX  "." .. domain, with ":" .. site_port unless it is 0 or 80
-- Each Lua VM (with "LuaScope server", a pool per process) keeps the module and its state
-- (what it read; a site's link is looked at again once a second, os.time() the tick). The
-- blob is looked at on every request (a stat, as Apache's own static serving makes): each of
-- Apache's VMs asking for every blob once a second costs more. r:stat, the only way to stat
-- here, is a method of the request being answered (state.r).
require "apache2"

local state
local time = os.time

local function setup(r)
	local env = r.subprocess_env
	local module = env["SKIFF_FASTPATH_MODULE"]
	if not module then
		return nil
	end
	local fp = dofile(module)
	local s = { decide = fp.decide }
	s.state = fp.new({
		tree = env["SKIFF_FASTPATH_DIR"],
		suffix = env["SKIFF_FASTPATH_SUFFIX"] or "",
		-- every VM of the pool keeps its own: fewer than lighttpd's one process
		max = 20000,
		identity = function(dir)
			local st = s.r:stat(dir)
			if not st or st.filetype ~= 2 then     -- APR_DIR
				return nil
			end
			return string.format("%.0f.%.0f", st.mtime, st.ctime)
		end,
		-- the file's size: its Content-Length
		exists_each = true,
		exists = function(file)
			local st = s.r:stat(file)
			return st and st.filetype == 1 and string.format("%d", st.size) or nil
		end,
		build = function() end,
	})
	return s
end

function skiff_fastpath(r)
	local s = state
	if not s then
		s = setup(r)
		if not s then
			return apache2.DECLINED
		end
		state = s
	end
	local h = r.headers_in
	s.r = r
	local status, v, length = s.decide(s.state, time(), r.method, h["Host"], r.unparsed_uri,
		h["Accept-Encoding"], h["If-None-Match"], h["If-Modified-Since"], h["Range"])
	s.r = nil
	if not status then
		return apache2.DECLINED
	end
	local out = r.headers_out
	local headers = v.headers
	for i = 1, #headers do
		out[headers[i][1]] = headers[i][2]
	end
	r.status = status
	if status == 200 then
		r.content_type = v.ctype
		out["Content-Length"] = length
		if not r.header_only then
			r:sendfile(v.file)
		end
	end
	return apache2.OK
end
