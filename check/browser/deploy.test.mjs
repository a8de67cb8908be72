// deploy.test.mjs — the whole path in a real browser: the deploy form, the live build log on
// the deployment page, the state turning ready, the deployed site; then the same with
// JavaScript disabled; a reload in the middle of a build (every line exactly once); the polling
// fallback when the SSE bridge cannot be reached. Run by check/browser/run.sh, which starts the
// stack and sets STACK_URL.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_URL, PORT, OUT, ID_RE, check, guard, commitBuildRepo, deployFromForm, finalState,
	runAll } from './lib.mjs';

const timer = guard();

const STEPS = 8;
const token = Math.random().toString(36).slice(2, 10);
function makeRepo(name, text, pause = 0.5) {
	return commitBuildRepo(name, [
		'#!/bin/sh',
		'set -e',
		'mkdir -p out/docs',
		`for i in $(seq 1 ${STEPS}); do`,
		'  echo "step $i of ' + STEPS + ': building"',
		'  [ "$i" -eq 3 ] && echo "warning: step 3 writes to stderr" >&2',
		`  sleep ${pause}`,
		'done',
		`printf '<!doctype html><title>${name}</title><h1 id="greeting">%s</h1>\\n' "${text}" > out/index.html`,
		`printf '<p>docs of ${name}</p>\\n' > out/docs/index.html`,
		'echo "build done"',
		'',
	]).dir;
}

// A repository whose build prints "line N of COUNT" every `pause` seconds, every fourth line to
// stderr: long enough to reload the deployment page while it runs.
function makeNumberedRepo(name, count, pause) {
	return commitBuildRepo(name, [
		'#!/bin/sh',
		'set -e',
		'mkdir -p out',
		`for i in $(seq 1 ${count}); do`,
		`  if [ $((i % 4)) -eq 0 ]; then echo "line $i of ${count}" >&2; else echo "line $i of ${count}"; fi`,
		`  sleep ${pause}`,
		'done',
		`printf '<!doctype html><title>${name}</title><h1 id="greeting">numbered</h1>\\n' > out/index.html`,
		'',
	]).dir;
}

// Records when each log line and each state appears on the page (set before any script runs).
function recorder() {
	if (!/^\/deployment/.test(location.pathname)) return;
	const loads = Number(sessionStorage.getItem('skiffLoads') || 0) + 1;
	sessionStorage.setItem('skiffLoads', String(loads));
	window.__skiff = { lines: [], states: [], loads };
	const t0 = performance.timeOrigin;
	document.addEventListener('DOMContentLoaded', () => {
		const main = document.querySelector('main');
		window.__skiff.lastEventId = (main && main.dataset.lastEventId) || '';
		const log = document.getElementById('log');
		const state = document.getElementById('state');
		if (log) {
			for (const l of log.querySelectorAll('.line')) window.__skiff.lines.push({ text: l.textContent, t: t0 + performance.now(), initial: true });
			new MutationObserver((muts) => {
				for (const m of muts) for (const n of m.addedNodes) {
					if (n.nodeType === 1 && n.classList.contains('line'))
						window.__skiff.lines.push({ text: n.textContent, cls: n.className, t: t0 + performance.now() });
				}
			}).observe(log, { childList: true });
		}
		if (state) {
			window.__skiff.states.push(state.textContent.trim());
			new MutationObserver(() => window.__skiff.states.push(state.textContent.trim()))
				.observe(state, { childList: true, characterData: true, subtree: true });
		}
	});
}

async function withJavaScript(browser) {
	const text = `Hello from skiff ${token}`;
	const slug = `bt-${token}`;
	const repo = makeRepo(slug, text);
	const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
	const page = await context.newPage();
	const consoleErrors = [];
	page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push(m.text()); });
	page.on('pageerror', (e) => consoleErrors.push(String(e)));
	await page.addInitScript(recorder);

	await page.goto(`${STACK_URL}/`);
	check('the dashboard shows the deploy form', await page.locator('#deploy-form').isVisible());
	await page.fill('#gitURL', `file://${repo}`);
	await page.fill('#slug', slug);
	await Promise.all([
		page.waitForURL(ID_RE, { timeout: 15_000 }),
		page.click('#deploy-button'),
	]);
	const m = page.url().match(ID_RE);
	const id = m && (m[1] || m[2]);
	check('submitting the form lands on the deployment page', !!id, page.url());
	if (!id) return;
	check('the page names the deployment', (await page.textContent('#deployment-id')).trim() === id);

	// Live: a line shows up while the build still runs.
	await page.waitForFunction(() => /step 1 of/.test(document.getElementById('log').textContent), null, { timeout: 30_000 })
		.catch(() => {});
	const early = await page.evaluate(() => ({
		log: document.getElementById('log').textContent,
		state: document.getElementById('state').textContent.trim(),
	}));
	check('the first build line appears while the build runs', /step 1 of/.test(early.log) && !/build done/.test(early.log),
		JSON.stringify(early).slice(0, 300));
	check('the badge says building while lines arrive', early.state === 'building', early.state);
	await page.screenshot({ path: join(OUT, 'deployment-building.png') });

	const ready = await page.waitForFunction(() => {
		const s = document.getElementById('state').textContent.trim();
		return s === 'ready' || s === 'error' || s === 'canceled' ? s : null;
	}, null, { timeout: 90_000 }).then((h) => h.jsonValue()).catch(() => 'timeout');
	check('the state badge turns ready without a reload', ready === 'ready', ready);
	const rec = await page.evaluate(() => window.__skiff);
	check('the page never reloaded itself (JS replaces the refresh)', rec.loads === 1, `loads=${rec.loads}`);
	const stepTimes = rec.lines.filter((l) => /^step \d+ of/.test(l.text));
	check(`all ${STEPS} build lines arrived, each exactly once`,
		stepTimes.length === STEPS && new Set(stepTimes.map((l) => l.text)).size === STEPS,
		stepTimes.map((l) => l.text).join(' | '));
	const streamed = stepTimes.filter((l) => !l.initial);
	check('build lines were appended live, not all at once',
		streamed.length >= 3 && streamed[streamed.length - 1].t - streamed[0].t >= 800,
		streamed.map((l) => Math.round(l.t - streamed[0].t)).join(','));
	check('the badge went through building to ready', rec.states.includes('building') || early.state === 'building',
		rec.states.join(' → '));
	const stderrLine = await page.locator('#log .line.stderr', { hasText: 'warning: step 3' }).count();
	check('stderr lines are marked', stderrLine === 1);
	await page.waitForSelector('#site:not([hidden]) #site-link', { timeout: 10_000 }).catch(() => {});
	const href = await page.getAttribute('#site-link', 'href').catch(() => null);
	const siteRe = new RegExp(`^http://${slug}--${id}\\.localhost:${PORT}/$`);
	check('the site link appears and names this deployment', !!href && siteRe.test(href), String(href));
	check('the page raised no JavaScript errors', consoleErrors.length === 0, consoleErrors.join(' | '));

	mkdirSync(OUT, { recursive: true });
	await page.screenshot({ path: join(OUT, 'deployment.png'), fullPage: true });
	await page.setViewportSize({ width: 375, height: 800 });
	const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
	check('the deployment page fits a 375 px phone without sideways scrolling', overflow <= 0, `overflow ${overflow}px`);
	await page.screenshot({ path: join(OUT, 'deployment-phone.png'), fullPage: true });
	await page.setViewportSize({ width: 1100, height: 900 });

	if (href) {
		await Promise.all([page.waitForURL(href, { timeout: 15_000 }), page.click('#site-link')]);
		const h1 = await page.textContent('#greeting').catch(() => null);
		check('following the link shows the deployed page', h1 === text, String(h1));
		const prod = await page.goto(`http://${slug}.localhost:${PORT}/docs/`);
		check('the project URL serves the site too', prod && prod.status() === 200 &&
			/docs of/.test(await page.textContent('body')), prod && String(prod.status()));
	}

	// The dashboard lists the project (JavaScript path of the project list).
	await page.goto(`${STACK_URL}/`);
	const listed = await page.waitForSelector(`#project-list li[data-project="${slug}"]`, { timeout: 10_000 })
		.then(() => true, () => false);
	check('the dashboard lists the new project', listed);
	await context.close();
}

async function withoutJavaScript(browser) {
	const text = `No script needed ${token}`;
	const slug = `bt-${token}-nojs`;
	// Slower steps: the page refreshes every 2 s after loading, so at least two refreshes land
	// while lines are still coming.
	const repo = makeRepo(slug, text, 1);
	const context = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
	const page = await context.newPage();
	await page.goto(`${STACK_URL}/`);
	await page.fill('#gitURL', `file://${repo}`);
	await page.fill('#slug', slug);
	const [response] = await Promise.all([
		page.waitForNavigation({ timeout: 15_000 }).catch(() => null),
		page.click('#deploy-button'),
	]);
	const chain = [];
	for (let r = response && response.request(); r; r = r.redirectedFrom()) chain.unshift(r);
	const first = chain.length ? await chain[0].response() : null;
	check('without JavaScript the form post answers 303 See Other', first && first.status() === 303,
		first ? String(first.status()) : 'no response');
	const m = page.url().match(/\/deployments\/([a-z2-7]{12})$/);
	check('…to the server-rendered deployment page', !!m, page.url());
	if (!m) { await context.close(); return; }

	// The page shows the log so far and refreshes itself until the build ends: poll the DOM
	// (no reload by the test) until the final state shows.
	const deadline = Date.now() + 90_000;
	let state = '', log = '', sawPartial = false;
	while (Date.now() < deadline) {
		try {
			state = ((await page.textContent('#state', { timeout: 2_000 })) || '').trim();
			log = (await page.textContent('#log', { timeout: 2_000 })) || '';
			if (/step \d+ of/.test(log) && !/build done/.test(log)) sawPartial = true;
			if (process.env.DEBUG_NOJS) console.log(Date.now() % 100000, state, (log.match(/step \d+ of/g) || []).length, /build done/.test(log));
			if (state === 'ready' || state === 'error') break;
		} catch (e) { /* the page is reloading */ }
		await new Promise((r) => setTimeout(r, 250));
	}
	check('without JavaScript the page reaches ready by refreshing itself', state === 'ready', state);
	check('without JavaScript the page shows the log', new RegExp(`step ${STEPS} of`).test(log) && /build done/.test(log),
		log.slice(0, 300));
	check('the refreshing page showed the log so far mid-build', sawPartial);
	const stderr = await page.locator('#log .line.stderr').count();
	check('without JavaScript stderr lines are marked too', stderr >= 1);
	const href = await page.getAttribute('#site-link', 'href').catch(() => null);
	const visible = href && await page.isVisible('#site-link');
	check('without JavaScript the site link shows when ready', !!visible, String(href));
	await page.screenshot({ path: join(OUT, 'deployment-nojs.png'), fullPage: true });
	if (visible) {
		await Promise.all([page.waitForURL(href, { timeout: 15_000 }), page.click('#site-link')]);
		check('…and leads to the deployed page', (await page.textContent('#greeting').catch(() => null)) === text);
	}
	await context.close();
}

// The "done when": reloading the deployment page in the middle of a build shows every
// line exactly once, in order. The reloaded page holds the log so far (rendered by the server,
// with data-last-event-id) and app.js streams the rest from after that id.
async function reloadMidBuild(browser) {
	const COUNT = 30;
	const slug = `bt-${token}-reload`;
	const repo = makeNumberedRepo(slug, COUNT, 0.3);
	const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
	const page = await context.newPage();
	const consoleErrors = [];
	page.on('pageerror', (e) => consoleErrors.push(String(e)));
	await page.addInitScript(recorder);
	const id = await deployFromForm(page, repo, slug);
	check('reload: the form lands on the deployment page', !!id, page.url());
	if (!id) { await context.close(); return; }
	const seen = await page.waitForFunction(() => (document.getElementById('log').textContent.match(/line \d+ of/g) || []).length >= 5,
		null, { timeout: 60_000 }).then(() => true, () => false);
	check('reload: five numbered lines showed before the reload', seen);
	await page.reload();
	const state = await finalState(page);
	check('reload: the state badge turns ready after the reload', state === 'ready', state);
	await page.waitForTimeout(300); // the last requestAnimationFrame flush
	const rec = await page.evaluate(() => window.__skiff);
	const lines = await page.$$eval('#log .line', (ls) => ls.map((l) => ({ text: l.textContent, cls: l.className })));
	const numbered = lines.filter((l) => /^line \d+ of/.test(l.text));
	const want = Array.from({ length: COUNT }, (_, i) => `line ${i + 1} of ${COUNT}`);
	check(`reload: lines 1 to ${COUNT} each show exactly once, in order`,
		JSON.stringify(numbered.map((l) => l.text)) === JSON.stringify(want),
		numbered.map((l) => l.text.replace(/ of \d+$/, '')).join(','));
	const marked = numbered.filter((l) => /\bstderr\b/.test(l.cls)).map((l) => l.text);
	check('reload: the stderr lines are marked, before and after the reload',
		JSON.stringify(marked) === JSON.stringify(want.filter((_, i) => (i + 1) % 4 === 0)), marked.join(' | '));
	const initial = rec.lines.filter((l) => l.initial && /^line \d+ of/.test(l.text)).length;
	const streamed = rec.lines.filter((l) => !l.initial && /^line \d+ of/.test(l.text)).length;
	check('reload: the reloaded page started from the server-rendered log with a resume id',
		rec.loads === 2 && initial >= 5 && /^\d+-\d+$/.test(rec.lastEventId),
		`loads=${rec.loads} initial=${initial} lastEventId=${rec.lastEventId}`);
	check('reload: the rest of the lines streamed in live after the reload', streamed >= 3, `streamed=${streamed}`);
	check('reload: the page raised no JavaScript errors', consoleErrors.length === 0, consoleErrors.join(' | '));
	await context.close();
}

// The SSE bridge cannot be reached (every /events/ request fails): app.js falls back to polling
// the server-rendered page, and still marks stderr lines.
async function withoutBridge(browser) {
	const slug = `bt-${token}-poll`;
	const repo = makeRepo(slug, 'polled', 1);
	const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
	let eventsTried = 0, polled = 0;
	await context.route('**/events/**', (route) => { eventsTried++; return route.abort('connectionrefused'); });
	const page = await context.newPage();
	page.on('request', (r) => { if (r.resourceType() === 'fetch' && /\/deployments\/[a-z2-7]{12}$/.test(r.url())) polled++; });
	await page.addInitScript(recorder);
	const id = await deployFromForm(page, repo, slug);
	check('no bridge: the form lands on the deployment page', !!id, page.url());
	if (!id) { await context.close(); return; }
	const state = await finalState(page);
	check('no bridge: the state badge turns ready by polling', state === 'ready', state);
	await page.waitForTimeout(300);
	const rec = await page.evaluate(() => window.__skiff);
	check('no bridge: the stream was tried and the page polled instead', eventsTried >= 3 && polled >= 1,
		`events requests=${eventsTried} page polls=${polled}`);
	const steps = await page.$$eval('#log .line', (ls) => ls.map((l) => l.textContent).filter((t) => /^step \d+ of/.test(t)));
	check(`no bridge: all ${STEPS} build lines arrived, each exactly once`,
		steps.length === STEPS && new Set(steps).size === STEPS, steps.join(' | '));
	const warn = rec.lines.filter((l) => /warning: step 3/.test(l.text));
	check('no bridge: the stderr line arrived by polling and is marked',
		warn.length === 1 && !warn[0].initial && /\bstderr\b/.test(warn[0].cls), JSON.stringify(warn));
	await context.close();
}

await runAll(timer, [[withJavaScript, 'the JavaScript run'], [withoutJavaScript, 'the no-JavaScript run'],
	[reloadMidBuild, 'the reload run'], [withoutBridge, 'the no-bridge run']]);
