// domains.test.mjs — a project's custom domains and its primary domain on the project page, as
// a user meets them: domains added with the plain form (no JavaScript), the primary chosen
// among the verified or active ones only (a pending one is not offered), the table marking the
// primary and the names that redirect to it, the redirect of {slug}.{domain} as a checkbox,
// "None" clearing it (with JavaScript), a form from another origin refused, and a 390-pixel-
// wide phone showing the section without sideways scrolling. Domains are made active in Redis
// by the test (no DNS here); the check itself is it_domains.sh's. Run by check/browser/run.sh.
import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_URL, OUT, TMP, check, guard, commitRepo, runAll } from './lib.mjs';

const timer = guard();
mkdirSync(OUT, { recursive: true });
const token = Math.random().toString(36).slice(2, 8);
const shot = (page, name) => page.screenshot({ path: join(OUT, `domains-${name}.png`), fullPage: true });
const redis = (...args) => execFileSync('redis-cli', ['-s', join(TMP, 'redis.sock'), ...args]).toString().trim();
// Makes a name verified or active as skiff-dispatch would (no DNS here): a new token makes a
// check already under way record nothing, and out of the schedule no other check starts.
const force = (name, state) => {
	redis('zrem', 'skiff:domains:check', name);
	redis('hset', `skiff:domain:${name}`, 'state', state, 'token', 'forced'.repeat(5) + '23');
};

async function domains(browser) {
	const slug = `dom-${token}`;
	const WWW = `www.${slug}.test`, APEX = `${slug}.test`, AWAY = `away.${slug}.test`;
	const { dir } = commitRepo(slug, { 'index.html': '<h1>domains</h1>\n' });
	const nojs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
	const p = await nojs.newPage();
	const made = await p.request.post(`${STACK_URL}/api/projects`, {
		headers: { Origin: STACK_URL }, data: { gitURL: `file://${dir}`, slug } });
	check('the project is created', made.status() === 202, String(made.status()));
	const project = async () => (await (await p.request.get(`${STACK_URL}/api/projects/${slug}`)).json()).data;

	// three names added with the plain form
	for (const name of [WWW, APEX, AWAY]) {
		await p.goto(`${STACK_URL}/projects/${slug}`);
		await p.fill('#domain-name', name);
		await Promise.all([p.waitForURL(new RegExp(`/projects/${slug}$`), { timeout: 10_000 }),
			p.click('#domain-form button[type="submit"]')]);
	}
	check('the form added the three names', (await p.$$('#domains tr[data-domain]')).length === 3);
	check('no primary form while nothing is verified', !(await p.$('#primary-form')));
	force(WWW, 'active');
	force(APEX, 'verified');

	// the primary, chosen without JavaScript
	await p.goto(`${STACK_URL}/projects/${slug}`);
	const options = await p.$$eval('#primary-domain option', (os) => os.map((o) => o.value));
	check('the primary is chosen among the verified and active names only (and None)',
		JSON.stringify(options.slice().sort()) === JSON.stringify(['', APEX, WWW].sort()), JSON.stringify(options));
	check('None is chosen at first', (await p.inputValue('#primary-domain')) === '');
	check('the redirect of the project\'s own address is off at first', !(await p.isChecked('#redirect-project')));
	check('the checkbox names the project\'s own address',
		(await p.textContent('label:has(#redirect-project)')).includes(`${slug}.localhost`));
	await p.selectOption('#primary-domain', WWW);
	await p.check('#redirect-project');
	await Promise.all([p.waitForURL(/#primary-form$/, { timeout: 10_000 }),
		p.click('#primary-form button[type="submit"]')]);
	check('without JavaScript the form saves and comes back to the section', /#primary-form$/.test(p.url()), p.url());
	let d = await project();
	check('the API shows the primary and the redirect', d.primaryDomain === WWW && d.redirectProjectAddress === true,
		JSON.stringify({ primaryDomain: d.primaryDomain, redirect: d.redirectProjectAddress }));
	check('the table marks the primary', !!(await p.$(`tr[data-domain="${WWW}"] [data-primary]`)));
	check('the table shows where the other verified name goes',
		((await p.textContent(`tr[data-domain="${APEX}"] [data-redirects]`)) || '').includes(WWW));
	check('a pending name does not redirect', !(await p.$(`tr[data-domain="${AWAY}"] [data-redirects]`)));
	check('the form shows what is saved', (await p.inputValue('#primary-domain')) === WWW &&
		await p.isChecked('#redirect-project'));
	await shot(p, 'primary');

	// a pending name sent by hand is refused with a page that says why; nothing changes
	const bad = await p.request.post(`${STACK_URL}/api/projects/${slug}/domains/primary`, {
		headers: { Origin: STACK_URL }, form: { primaryDomain: AWAY } });
	check('a pending name is refused (409)', bad.status() === 409, String(bad.status()));
	check('... with a page that says why', /verified/.test(await bad.text()));
	// a form from another site is refused (same-origin rule)
	const evil = await p.request.post(`${STACK_URL}/api/projects/${slug}/domains/primary`, {
		headers: { Origin: 'http://evil.example' }, form: { primaryDomain: '' } });
	check('a form from another origin is refused (403)', evil.status() === 403, String(evil.status()));
	d = await project();
	check('... and neither changed anything', d.primaryDomain === WWW && d.redirectProjectAddress === true);
	await nojs.close();

	// with JavaScript: None clears it
	const js = await browser.newContext({ viewport: { width: 1100, height: 900 } });
	const pj = await js.newPage();
	await pj.goto(`${STACK_URL}/projects/${slug}`);
	await pj.selectOption('#primary-domain', '');
	await pj.uncheck('#redirect-project');
	await Promise.all([pj.waitForURL(/#primary-form$/, { timeout: 10_000 }),
		pj.click('#primary-form button[type="submit"]')]);
	d = (await (await pj.request.get(`${STACK_URL}/api/projects/${slug}`)).json()).data;
	check('with JavaScript None clears the primary and the redirect',
		d.primaryDomain === null && d.redirectProjectAddress === false, JSON.stringify(d.primaryDomain));
	check('... and the table marks no primary', !(await pj.$('[data-primary]')) && !(await pj.$('[data-redirects]')));
	// removing the primary domain clears it
	await pj.selectOption('#primary-domain', APEX);
	await Promise.all([pj.waitForURL(/#primary-form$/, { timeout: 10_000 }),
		pj.click('#primary-form button[type="submit"]')]);
	await Promise.all([pj.waitForURL(new RegExp(`/projects/${slug}$`), { timeout: 10_000 }),
		pj.click(`tr[data-domain="${APEX}"] button[type="submit"]`)]);
	d = (await (await pj.request.get(`${STACK_URL}/api/projects/${slug}`)).json()).data;
	check('removing the primary domain clears it', d.primaryDomain === null, JSON.stringify(d.primaryDomain));
	await js.close();

	// a phone, with a primary and a long name
	const LONG = `a-rather-long-subdomain-name-for-a-phone.${slug}.test`;
	const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
	const q = await phone.newPage();
	await q.request.post(`${STACK_URL}/api/projects/${slug}/domains`, { headers: { Origin: STACK_URL }, data: { name: LONG } });
	force(LONG, 'active');
	await q.request.post(`${STACK_URL}/api/projects/${slug}/domains/primary`, {
		headers: { Origin: STACK_URL }, data: { primaryDomain: LONG, redirectProjectAddress: true } });
	await q.goto(`${STACK_URL}/projects/${slug}#primary-form`);
	await q.waitForTimeout(300);
	const r = await q.evaluate(() => {
		const w = window.innerWidth;
		const wide = [];
		for (const e of document.querySelectorAll('body *')) {
			const b = e.getBoundingClientRect();
			if (b.width === 0 && b.height === 0) continue;
			if (e.closest('.sr-only')) continue;
			if (b.right > w + 0.5 || b.left < -0.5)
				wide.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} ${Math.round(b.left)}-${Math.round(b.right)}`);
		}
		const inside = (sel) => {
			const b = document.querySelector(sel).getBoundingClientRect();
			return b.left >= 0 && b.right <= w;
		};
		return { scroll: document.documentElement.scrollWidth - w, wide: wide.slice(0, 5),
			save: inside('#primary-form button[type="submit"]'), select: inside('#primary-domain') };
	});
	check('phone: the project page has no element wider than 390 px and no sideways scroll',
		r.scroll <= 0 && r.wide.length === 0, `scroll ${r.scroll}px; ${r.wide.join(' | ')}`);
	check('phone: the primary form\'s select and button are within the screen', r.save && r.select, JSON.stringify(r));
	check('phone: the long primary is marked', !!(await q.$(`tr[data-domain="${LONG}"] [data-primary]`)));
	await shot(q, 'phone');
	await phone.close();
}

await runAll(timer, [[domains, 'the domains run']]);
