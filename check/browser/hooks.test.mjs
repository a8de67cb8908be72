// hooks.test.mjs — the hooks page as a user meets it, with JavaScript on and off: reached from
// the project page; a build hook created with the form shows its URL once, and that URL builds
// the branch; the list says when it was used and revokes it; a notification hook shows its
// signing secret once; commit statuses are set without showing the token again; the page fits
// a 390-pixel-wide phone. Run by check/browser/run.sh (allow_local_git = true).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_URL, OUT, check, guard, commitRepo, deployFromForm, finalState, runAll } from './lib.mjs';

const timer = guard();
mkdirSync(OUT, { recursive: true });
const token = Math.random().toString(36).slice(2, 8);
const shot = (page, name) => page.screenshot({ path: join(OUT, `hooks-${name}.png`), fullPage: true });

async function hooksPage(browser, javaScript) {
	const tag = javaScript ? 'js' : 'nojs';
	const slug = `hooks-${token}-${tag}`;
	const { dir } = commitRepo(slug, { 'index.html': '<h1>hooks</h1>\n' });
	const setup = await browser.newContext();
	const first = await setup.newPage();
	const id = await deployFromForm(first, dir, slug);
	check(`${tag}: the project is deployed`, !!id && (await finalState(first)) === 'ready', first.url());
	await setup.close();

	const context = await browser.newContext({ javaScriptEnabled: javaScript, viewport: { width: 1100, height: 900 } });
	const page = await context.newPage();
	await page.goto(`${STACK_URL}/projects/${slug}`);
	await Promise.all([page.waitForURL(`${STACK_URL}/projects/${slug}/hooks`), page.click('#hooks-link')]);
	check(`${tag}: the project page links to the hooks page`, await page.isVisible('#build-hook-form'));

	await page.fill('#bh-name', 'CMS publish');
	await Promise.all([page.waitForNavigation(), page.click('#build-hook-form button[type=submit]')]);
	const url = (await page.textContent('#secret').catch(() => '')).trim();
	check(`${tag}: creating a build hook shows its URL once`,
		/\/api\/hooks\/build\/[a-z2-7]{32}$/.test(url), url);
	await shot(page, `${tag}-build-hook-created`);
	const res = await fetch(url.replace(/^http:\/\/localhost:\d+/, STACK_URL), { method: 'POST', body: '' });
	const body = await res.json().catch(() => ({}));
	check(`${tag}: a POST to the URL queues a build`, res.status === 202 && /^[a-z2-7]{12}$/.test(body.data?.deploymentId || ''),
		`${res.status} ${JSON.stringify(body)}`);

	await page.click('text=Back to the hooks');
	const row = page.locator('tr.build-hook');
	check(`${tag}: the hooks page lists the hook, not its URL`, (await row.count()) === 1 &&
		!(await page.content()).includes(url.split('/').pop()));
	check(`${tag}: it says when the hook was last used`,
		/\d{4}-\d\d-\d\d/.test(await row.locator('td[data-label="Last used"]').textContent()));
	await Promise.all([page.waitForNavigation(), row.locator('button').click()]);
	check(`${tag}: Revoke removes it and comes back to the hooks page`,
		page.url() === `${STACK_URL}/projects/${slug}/hooks` && (await page.locator('tr.build-hook').count()) === 0, page.url());
	const gone = await fetch(url.replace(/^http:\/\/localhost:\d+/, STACK_URL), { method: 'POST', body: '' });
	check(`${tag}: the revoked URL answers 404`, gone.status === 404, String(gone.status));

	await page.fill('#nh-url', 'http://127.0.0.1:9/skiff-events');
	await page.fill('#nh-events', 'deploy.ready deploy.failed');
	await Promise.all([page.waitForNavigation(), page.click('#notification-form button[type=submit]')]);
	const secret = (await page.textContent('#secret').catch(() => '')).trim();
	check(`${tag}: adding a notification hook shows its signing secret once`, /^[0-9a-f]{48}$/.test(secret), secret);
	await page.click('text=Back to the hooks');
	const nrow = (await page.locator('tr.notification-hook').textContent().catch(() => '')) || '';
	check(`${tag}: the notification hook is listed with its events, not its secret`,
		/deploy\.ready, deploy\.failed/.test(nrow) && !(await page.content()).includes(secret), nrow);

	await page.selectOption('#cs-provider', 'gitlab');
	await page.fill('#cs-token', 'glpat-browser-test');
	await page.fill('#cs-repo', 'acme/site');
	await page.fill('#cs-api', 'http://127.0.0.1:9/api/v4');
	await Promise.all([page.waitForNavigation(), page.click('#commit-status-form button[type=submit]')]);
	const on = (await page.textContent('#commit-status-on').catch(() => '')) || '';
	check(`${tag}: commit statuses are set, the token not shown`,
		/gitlab/.test(on) && /acme\/site/.test(on) && !(await page.content()).includes('glpat-browser-test'), on);
	await shot(page, `${tag}-hooks`);

	if (javaScript) {
		await page.setViewportSize({ width: 390, height: 844 });
		await page.goto(`${STACK_URL}/projects/${slug}/hooks`);
		const r = await page.evaluate(() => {
			const w = window.innerWidth;
			const wide = [];
			for (const e of document.querySelectorAll('body *')) {
				const b = e.getBoundingClientRect();
				if ((b.width || b.height) && (b.right > w + 0.5 || b.left < -0.5))
					wide.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} ${Math.round(b.left)}-${Math.round(b.right)}`);
			}
			return { scroll: document.documentElement.scrollWidth - w, wide: wide.slice(0, 5) };
		});
		check('phone: the hooks page has no element wider than 390 px and no sideways scroll',
			r.scroll <= 0 && r.wide.length === 0, `scroll ${r.scroll}px; ${r.wide.join(' | ')}`);
		await shot(page, 'phone');
	}
	await context.close();
}

await runAll(timer, [[(b) => hooksPage(b, true), 'the hooks run with JavaScript'],
	[(b) => hooksPage(b, false), 'the hooks run without JavaScript']]);
