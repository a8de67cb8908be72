-- skiff-fastpath-apache.lua — Apache httpd's mod_lua side of the serving fast path
-- (skiff-fastpath.lua decides), a LuaQuickHandler of the sites' virtual host: it answers
-- before the request is mapped, or declines and the request goes on to skiff-serve. The
-- virtual host sets, with SetEnvIf (which runs before quick handlers, unlike SetEnv):
--   SKIFF_FASTPATH_DIR     fastpath_dir of skiff.conf
--   SKIFF_FASTPATH_MODULE  this directory's skiff-fastpath.lua
--   SKIFF_FASTPATH_SUFFIX  "." .. domain, with ":" .. site_port unless it is 0 or 80
-- With "LuaScope thread" each thread keeps the module and its settings.
require "apache2"

local state

local function setup(r)
	local env = r.subprocess_env
	local module = env["SKIFF_FASTPATH_MODULE"]
	if not module then
		return nil
	end
	local fp = dofile(module)
	local s = { fp = fp, cfg = {
		tree = env["SKIFF_FASTPATH_DIR"],
		suffix = env["SKIFF_FASTPATH_SUFFIX"] or "",
		entry = fp.read,
	} }
	-- r:stat is a method of the request being answered (s.r); the file's stat is kept for
	-- its Content-Length, so the file is looked at once
	s.cfg.exists = function(path)
		local st = s.r:stat(path)
		s.stat = st and st.filetype == 1 and st or nil
		return s.stat
	end
	return s
end

function skiff_fastpath(r)
	state = state or setup(r)
	if not state then
		return apache2.DECLINED
	end
	state.r, state.stat = r, nil
	local h = r.headers_in
	local uri = r.unparsed_uri or ""
	local path, query = uri:match("^([^?#]*)%??([^#]*)")
	local status, headers, ctype, file = state.fp.decide(state.cfg, {
		method = r.method,
		host = h["Host"],
		path = path,
		query = query,
		ae = h["Accept-Encoding"],
		inm = h["If-None-Match"],
		ims = h["If-Modified-Since"],
		range = h["Range"],
	})
	local st = state.stat
	state.r, state.stat = nil, nil
	if not status then
		return apache2.DECLINED
	end
	local out = r.headers_out
	for _, nv in ipairs(headers) do
		out[nv[1]] = nv[2]
	end
	r.status = status
	if ctype then
		r.content_type = ctype
	end
	if file then
		-- decide checked file with exists just before choosing it: st is its stat
		out["Content-Length"] = string.format("%d", st and st.size or 0)
		if not r.header_only then
			r:sendfile(file)
		end
	end
	return apache2.OK
end
