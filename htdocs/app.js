/* app.js — progressive enhancement for skiff's dashboard: live build logs over EventSource,
 * state badges, the project list. Every page works without it (doc/dashboard.md describes the
 * markup it expects). No framework, no build step. */
(function () {
	'use strict';

	var FINAL = { ready: 1, error: 1, canceled: 1, expired: 1 };
	var ID_RE = /^[a-z2-7]{12}$/;
	var SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
	var PROJECTS_SHOWN = 10;

	function $(id) { return document.getElementById(id); }

	function setText(id, text) {
		var el = $(id);
		if (el) el.textContent = text == null ? '' : String(text);
		return el;
	}

	function el(tag, cls, text) {
		var e = document.createElement(tag);
		if (cls) e.className = cls;
		if (text != null) e.textContent = String(text);
		return e;
	}

	/* GET a JSON API path; resolves to the body, rejects with {status, body}. */
	function api(path) {
		return fetch(path, { headers: { Accept: 'application/json' }, credentials: 'same-origin' })
			.then(function (r) {
				return r.text().then(function (t) {
					var body = null;
					try { body = t ? JSON.parse(t) : null; } catch (e) { body = null; }
					if (!r.ok) throw { status: r.status, body: body };
					return body;
				});
			});
	}

	function errorText(err) {
		var e = err && err.body && err.body.error;
		if (e && e.message) return e.message;
		if (err && err.status) return 'The server answered ' + err.status + '.';
		return 'The server could not be reached.';
	}

	/* Timestamps are Unix milliseconds (seconds are accepted too) or ISO strings. */
	function toDate(v) {
		if (v == null || v === '') return null;
		var n = typeof v === 'number' ? v : (/^\d+$/.test(String(v)) ? Number(v) : NaN);
		var d = isFinite(n) ? new Date(n < 1e11 ? n * 1000 : n) : new Date(String(v));
		return isNaN(d.getTime()) ? null : d;
	}

	function ago(d) {
		var s = Math.round((Date.now() - d.getTime()) / 1000);
		if (s < 0) s = 0;
		if (s < 45) return 'just now';
		if (s < 3600) return Math.round(s / 60) + ' min ago';
		if (s < 86400) return Math.round(s / 3600) + ' h ago';
		if (s < 86400 * 7) return Math.round(s / 86400) + ' d ago';
		return d.toLocaleDateString();
	}

	function setTime(t, v) {
		var d = toDate(v);
		if (!t) return;
		if (!d) { t.textContent = ''; return; }
		t.dateTime = d.toISOString();
		t.title = d.toLocaleString();
		t.textContent = ago(d);
	}

	/* Server-rendered <time datetime=...> elements: relative text, exact time on hover. */
	function enhanceTimes(root) {
		var ts = root.querySelectorAll('time[datetime]');
		for (var i = 0; i < ts.length; i++) {
			var d = toDate(ts[i].getAttribute('datetime'));
			if (d) { ts[i].title = d.toLocaleString(); ts[i].textContent = ago(d); }
		}
	}

	function badge(b, state) {
		if (!b) return;
		state = state || 'queued';
		b.className = 'badge state-' + state.replace(/[^a-z]/g, '');
		b.textContent = state;
	}

	function shortCommit(c) { return c ? String(c).slice(0, 12) : ''; }

	/* Forms with data-confirm ask first (the server still has its own confirmation step). */
	function enhanceConfirms() {
		document.addEventListener('submit', function (ev) {
			var f = ev.target;
			if (f && f.dataset && f.dataset.confirm && !window.confirm(f.dataset.confirm))
				ev.preventDefault();
		}, true);
	}

	/* ---- the deploy form and the project list (index.html) ---------------------------- */

	function homePage() {
		var q = new URLSearchParams(location.search);
		var code = q.get('error'), message = q.get('message');
		var box = $('form-error');
		if (box && (code || message)) {
			box.textContent = '';
			box.appendChild(el('strong', null, 'Could not deploy: '));
			box.appendChild(document.createTextNode(message || code));
			box.hidden = false;
			var field = { invalid_git_url: 'gitURL', git_url: 'gitURL', invalid_slug: 'slug',
				slug_taken: 'slug', conflict: 'slug', invalid_branch: 'branch' }[code];
			if (field && $(field)) $(field).focus();
		}
		var form = $('deploy-form'), button = $('deploy-button');
		if (form && button) {
			form.addEventListener('submit', function () {
				button.disabled = true;
				button.textContent = 'Deploying…';
			});
			/* Back from the deployment page: the bfcache keeps the disabled button. */
			window.addEventListener('pageshow', function () {
				button.disabled = false;
				button.textContent = 'Deploy';
			});
		}
		var list = $('projects');
		if (list) loadProjects(list);
		followHint();
	}

	/* index.html is static: take the repository hint from the form skiff-status renders with
	 * this server's configuration (which URLs it accepts). */
	function followHint() {
		var hint = $('gitURL-hint');
		if (!hint || hint.dataset.server) return;
		fetch('/project', { headers: { Accept: 'text/html' }, credentials: 'same-origin' })
			.then(function (r) { return r.ok ? r.text() : null; })
			.then(function (html) {
				if (html == null) return;
				var doc = new DOMParser().parseFromString(html, 'text/html');
				var h = doc.getElementById('gitURL-hint');
				if (h && h.textContent) hint.textContent = h.textContent;
			}, function () { /* keep the static hint */ });
	}

	/* A badge of the project's newest deployment, linking to it (filled in when it loads). */
	function latestBadge(id) {
		var a = el('a', 'latest');
		a.href = '/deployments/' + id;
		var b = el('span', 'badge');
		badge(b, 'queued');
		b.textContent = '…';
		a.appendChild(b);
		api('/api/deployments/' + id).then(function (body) {
			var d = body && body.data;
			if (d && d.state) badge(b, d.state);
		}, function () { a.parentNode && a.parentNode.removeChild(a); });
		return a;
	}

	function loadProjects(box) {
		api('/api/projects').then(function (body) {
			var projects = (body && body.data) || [];
			box.textContent = '';
			if (!projects.length) {
				box.appendChild(el('p', 'empty-state', 'No projects yet. Your first deployment creates one.'));
				return;
			}
			var ul = el('ul', 'list');
			ul.id = 'project-list';
			projects.slice(0, PROJECTS_SHOWN).forEach(function (p) {
				if (!p || !SLUG_RE.test(p.slug || '')) return;
				var li = el('li');
				li.dataset.project = p.slug;
				var grow = el('div', 'grow');
				var a = el('a', 'title', p.slug);
				a.href = '/projects/' + p.slug;
				grow.appendChild(a);
				grow.appendChild(el('span', 'sub', (p.gitUrl || '') + (p.branch ? ' · ' + p.branch : '')));
				li.appendChild(grow);
				var end = el('div', 'end');
				if (p.current && /^https?:\/\//.test(p.url || '')) {
					var site = el('a', null, p.url.replace(/^https?:\/\//, '').replace(/\/$/, ''));
					site.href = p.url;
					end.appendChild(site);
				} else if (!ID_RE.test(p.latest || '')) {
					end.appendChild(el('span', 'muted', 'not live yet'));
				}
				/* the newest deployment's state when it is not the live one (a failed
				 * project shows its error, not "not live yet") */
				if (ID_RE.test(p.latest || '') && p.latest !== p.current)
					end.appendChild(latestBadge(p.latest));
				li.appendChild(end);
				ul.appendChild(li);
			});
			box.appendChild(ul);
			if (projects.length > PROJECTS_SHOWN) {
				var more = el('p', 'empty-state');
				var all = el('a', null, 'All ' + projects.length + ' projects');
				all.href = '/projects';
				more.appendChild(all);
				box.appendChild(more);
			}
		}, function () { /* keep the plain link to /projects */ });
	}

	/* ---- the deployment page: live log -------------------------------------------------- */

	/* Redis stream ids "ms-seq": 1 when a is after b. */
	function idAfter(a, b) {
		if (!b) return true;
		if (!a) return false;
		var pa = a.split('-'), pb = b.split('-');
		var ma = Number(pa[0]), mb = Number(pb[0]);
		if (ma !== mb) return ma > mb;
		return Number(pa[1] || 0) > Number(pb[1] || 0);
	}

	function parseData(s) {
		try { return JSON.parse(s) || {}; } catch (e) { return { m: s }; }
	}

	function deploymentPage(main) {
		var q = new URLSearchParams(location.search);
		var id = main.dataset.deploymentId || q.get('id') || '';
		var log = $('log');
		if (!ID_RE.test(id) || !log) {
			showProblem('This address names no deployment.');
			badge($('state'), 'error');
			setText('state', 'unknown');
			return;
		}
		main.dataset.deploymentId = id;
		setText('deployment-id', id);
		var raw = $('raw-log');
		if (raw) raw.href = '/api/deployments/' + id + '/log';

		/* The id of the last stream entry the server put into #log: the stream resumes after
		 * it, so no line shows twice and none is missed. */
		var lastId = main.dataset.lastEventId || log.dataset.lastEventId || '';
		if (!lastId) log.textContent = '';   /* no resume point: replay the whole log */
		var state = main.dataset.state || '';
		var ended = false, es = null, attempts = 0, received = false, polling = false;
		var pending = [], scheduled = false;

		function setState(s, phase) {
			if (!s) return;
			state = s;
			main.dataset.state = s;
			badge($('state'), s);
			setText('phase', s === 'building' && phase ? phase : '');
			/* Nothing left to cancel once the build has ended; one that failed can be redeployed. */
			var cancel = $('cancel-form');
			if (cancel && FINAL[s]) cancel.hidden = true;
			var redeploy = $('redeploy-form');
			if (redeploy) redeploy.hidden = !(s === 'error' || s === 'canceled');
			document.title = s + ' · ' + id + ' · skiff';
		}

		function flush() {
			scheduled = false;
			var follow = log.scrollHeight - log.scrollTop - log.clientHeight < 48;
			var frag = document.createDocumentFragment();
			for (var i = 0; i < pending.length; i++) frag.appendChild(pending[i]);
			pending = [];
			log.appendChild(frag);
			if (follow) log.scrollTop = log.scrollHeight;
		}

		function appendLine(cls, text) {
			pending.push(el('span', 'line ' + cls, text == null ? '' : text));
			pending.push(document.createTextNode('\n'));
			if (!scheduled) {
				scheduled = true;
				window.requestAnimationFrame(flush);
			}
		}

		/* A log entry's stream as the class of its line. */
		function lineClass(stream) {
			return stream === 'stderr' || stream === 'system' ? stream : 'stdout';
		}

		function live(on) {
			var l = $('live');
			if (l) l.hidden = !on;
		}

		function render(d) {
			if (!d) return;
			setState(d.state, d.phase);
			if (d.project && SLUG_RE.test(d.project)) {
				['project-link', 'project-name'].forEach(function (k) {
					var a = setText(k, d.project);
					if (a) a.href = '/projects/' + d.project;
				});
			}
			if ($('commit')) setText('commit', shortCommit(d.commit) || (d.ref || ''));
			if ($('commit-message')) setText('commit-message', d.commitMessage || '');
			if ($('created') && !$('created').textContent) setTime($('created'), d.created);
			if ($('trigger') && d.trigger) setText('trigger', d.trigger);
			var site = $('site');
			if (site && d.state === 'ready' && /^https?:\/\//.test(d.url || d.projectUrl || '')) {
				var link = $('site-link');
				if (link) {
					link.href = d.url || d.projectUrl;
					link.textContent = 'Visit ' + (d.url || d.projectUrl).replace(/^https?:\/\//, '').replace(/\/$/, '');
				}
				var pu = $('project-url');
				if (pu && d.projectUrl) {
					pu.href = d.projectUrl;
					pu.textContent = d.projectUrl.replace(/^https?:\/\//, '').replace(/\/$/, '');
				}
				site.hidden = false;
			}
			var box = $('error');
			if (box && (d.state === 'error' || d.state === 'canceled')) {
				box.textContent = '';
				if (d.state === 'canceled') {
					box.appendChild(el('strong', null, 'Canceled. '));
					box.appendChild(document.createTextNode('This build was stopped; the site did not change.'));
				} else {
					var msg = d.error || 'See the log below.';
					var head = 'Build failed';
					if (d.exitCode != null && !/code/i.test(msg)) head += ' (exit code ' + d.exitCode + ')';
					box.appendChild(el('strong', null, head + ': '));
					msg = msg.charAt(0).toUpperCase() + msg.slice(1);
					if (!/[.!?]$/.test(msg)) msg += '.';
					if (d.exitCode === 137 && !/memory/i.test(msg)) msg += ' Exit code 137 usually means the build ran out of memory.';
					box.appendChild(document.createTextNode(msg));
				}
				box.hidden = false;
			}
		}

		function refresh() {
			return api('/api/deployments/' + id).then(function (b) {
				render(b && b.data);
				return b && b.data;
			}, function (err) {
				if (err && err.status === 404) showProblem('There is no deployment ' + id + '.');
				return null;
			});
		}

		function finish() {
			ended = true;
			live(false);
			if (es) es.close();
			refresh();
		}

		/* The bridge is unreachable: poll the record and the server-rendered page until the
		 * build ends. The page marks each line with its stream (the raw log would not), and the
		 * log only grows, so the lines past those already shown are the new ones. */
		function poll() {
			if (polling) return;
			polling = true;
			live(false);
			(function tick() {
				refresh().then(function (d) {
					return fetch('/deployments/' + id, { headers: { Accept: 'text/html' }, credentials: 'same-origin' })
						.then(function (r) { return r.ok ? r.text() : null; })
						.then(function (html) {
							if (html != null) {
								var doc = new DOMParser().parseFromString(html, 'text/html');
								var lines = doc.querySelectorAll('#log .line:not(.log-cut)');
								var have = log.querySelectorAll('.line:not(.log-cut)').length + pending.length / 2;
								for (var i = have; i < lines.length; i++) {
									var c = lines[i].classList;
									var stream = c.contains('stderr') ? 'stderr' : c.contains('system') ? 'system' : 'stdout';
									appendLine(c.contains('state') ? 'system state' : lineClass(stream), lines[i].textContent);
								}
							}
							if (!d || !FINAL[d.state]) setTimeout(tick, 2000);
						});
				}).catch(function () { setTimeout(tick, 4000); });
			})();
		}

		function connect() {
			if (ended) return;
			var url = '/events/' + id + (lastId ? '?lastEventId=' + encodeURIComponent(lastId) : '');
			es = new EventSource(url);
			es.onopen = function () { attempts = 0; live(true); };
			function fresh(ev) {
				received = true;
				if (ev.lastEventId && !idAfter(ev.lastEventId, lastId)) return false;
				if (ev.lastEventId) lastId = ev.lastEventId;
				return true;
			}
			es.addEventListener('line', function (ev) {
				if (!fresh(ev)) return;
				var d = parseData(ev.data);
				appendLine(lineClass(d.s), d.m);
			});
			es.addEventListener('state', function (ev) {
				if (!fresh(ev)) return;
				var d = parseData(ev.data);
				var parts = String(d.m || '').split(' ');
				appendLine('system state', '==> ' + (d.m || ''));
				setState(parts[0], parts[1]);
				/* the record gains the commit after the clone, the site or error at the end */
				refresh();
			});
			es.addEventListener('end', function (ev) {
				fresh(ev);
				finish();
			});
			es.onerror = function () {
				if (ended) return;
				es.close();
				live(false);
				attempts++;
				/* Never reached the bridge: fall back to polling the API. */
				if (!received && attempts >= 3) { poll(); return; }
				/* Reconnect from the last event seen (the browser's own retry would resend the
				 * first URL's lastEventId). */
				setTimeout(connect, Math.min(500 * attempts, 5000));
			};
		}

		if (state) setState(state, ($('phase') || {}).textContent);
		if (log.scrollHeight > log.clientHeight) log.scrollTop = log.scrollHeight;
		refresh().then(function (d) {
			/* A finished deployment rendered by the server with its whole log needs no stream
			 * (a log the server cut short, #log-cut, resumes after its last line like any). */
			if (d && FINAL[d.state] && lastId && !$('log-cut')) {
				ended = true;
				return;
			}
			if (typeof window.EventSource === 'function') connect();
			else poll();
		});
	}

	function showProblem(text) {
		var box = $('error');
		if (!box) return;
		box.textContent = text;
		box.hidden = false;
	}

	/* ---- the project page: keep badges of running builds current ---------------------- */

	function projectPage(main) {
		var rows = main.querySelectorAll('[data-deployment-id]');
		var active = [];
		for (var i = 0; i < rows.length; i++) {
			var s = rows[i].getAttribute('data-state');
			if (s === 'queued' || s === 'building') active.push(rows[i]);
		}
		if (!active.length) return;
		(function tick() {
			var left = [];
			Promise.all(active.map(function (row) {
				var id = row.getAttribute('data-deployment-id');
				if (!ID_RE.test(id)) return null;
				return api('/api/deployments/' + id).then(function (b) {
					var d = b && b.data;
					if (!d) return;
					row.setAttribute('data-state', d.state);
					badge(row.querySelector('.badge'), d.state);
					var commit = row.querySelector('td.commit code');
					if (commit && d.commit) commit.textContent = String(d.commit).slice(0, 7);
					var msg = row.querySelector('td.commit .msg');
					if (msg && d.commitMessage) msg.textContent = d.commitMessage;
					if (!FINAL[d.state]) left.push(row);
				}, function () { left.push(row); });
			})).then(function () {
				active = left;
				if (active.length) setTimeout(tick, 2500);
			});
		})();
	}

	/* Without JavaScript, pages of running builds reload themselves; with it they update live.
	 * The refresh must sit in <noscript> (doc/dashboard.md): Chromium keeps a scheduled
	 * refresh even when its <meta> is removed. Removing a stray one is only best effort. */
	function stopRefresh() {
		var metas = document.querySelectorAll('meta[http-equiv="refresh" i]');
		for (var i = 0; i < metas.length; i++) metas[i].parentNode.removeChild(metas[i]);
		var note = $('refresh-note');
		if (note) note.parentNode.removeChild(note);
	}

	/* The page that shows a new deploy token once: a Copy button next to the selected field
	 * (without JavaScript the field is there to select and copy by hand). */
	function tokenCreatedPage() {
		var field = $('token-secret'), button = $('token-copy');
		if (!field || !button) return;
		field.focus();
		field.select();
		button.hidden = false;
		button.addEventListener('click', function () {
			field.select();
			var done = function () { button.textContent = 'Copied'; };
			if (navigator.clipboard && navigator.clipboard.writeText)
				navigator.clipboard.writeText(field.value).then(done, function () {
					button.textContent = 'Press Ctrl+C';
				});
			else if (document.execCommand && document.execCommand('copy')) done();
		});
	}

	function start() {
		stopRefresh();
		enhanceConfirms();
		enhanceTimes(document);
		var main = document.querySelector('main');
		if (!main) return;
		if (main.id === 'home') homePage();
		else if (main.id === 'deployment') deploymentPage(main);
		else if (main.id === 'project') projectPage(main);
		else if (main.id === 'token-created') tokenCreatedPage();
	}

	if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
	else start();
})();
