// dashboard.test.mjs — the dashboard's pages as a user meets them after the first deploy: a
// failed project in the lists, Redeploy on a failed deployment, the commit shown while
// building, a form error that keeps what was typed, rollback offered only backwards in time,
// the repository hint following the configuration, and a 390-pixel-wide phone. Run by
// check/browser/run.sh, which starts the stack (allow_local_git = true) and sets STACK_URL.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_URL, OUT, ID_RE, check, guard, commitRepo, commitBuildRepo, deployFromForm,
	finalState, runAll } from './lib.mjs';

const timer = guard();
mkdirSync(OUT, { recursive: true });
const token = Math.random().toString(36).slice(2, 8);
const shot = (page, name) => page.screenshot({ path: join(OUT, `dashboard-${name}.png`), fullPage: true });

// A failing build: the project never goes live; its lists say "error", its page offers Redeploy.
async function failedProject(browser) {
	const slug = `dash-${token}-fail`;
	const { dir } = commitBuildRepo(slug, ['#!/bin/sh', 'echo "compiling"', 'sleep 1',
		'echo "error: no such module" >&2', 'exit 3', '']);
	const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
	const page = await context.newPage();
	const id = await deployFromForm(page, dir, slug);
	check('failed: the form lands on the deployment page', !!id, page.url());
	if (!id) return context.close();
	check('failed: the build ends in error', (await finalState(page)) === 'error');
	const live = await page.waitForSelector('#redeploy-form:not([hidden]) #redeploy', { state: 'visible', timeout: 10_000 })
		.then(() => true, () => false);
	check('failed: the live page offers Redeploy once the build fails', live);

	await page.goto(`${STACK_URL}/deployments/${id}`);
	check('failed: the failed deployment page offers Redeploy', await page.isVisible('#redeploy'));
	await shot(page, 'failed-deployment');

	await page.goto(`${STACK_URL}/projects`);
	const row = page.locator(`tr[data-project="${slug}"]`);
	const rowText = (await row.textContent().catch(() => '')) || '';
	check('failed: the projects page shows the project\'s latest state, error',
		(await row.locator('.badge.state-error').count()) === 1 && !/not live yet/.test(rowText), rowText.trim());
	await shot(page, 'projects');

	await page.goto(`${STACK_URL}/`);
	const li = page.locator(`#project-list li[data-project="${slug}"]`);
	const badge = await li.locator('.badge.state-error').waitFor({ timeout: 10_000 }).then(() => true, () => false);
	const liText = (await li.textContent().catch(() => '')) || '';
	check('failed: the dashboard\'s project list shows error, not "not live yet"', badge && !/not live yet/.test(liText),
		liText.trim());

	await page.goto(`${STACK_URL}/deployments/${id}`);
	await Promise.all([page.waitForURL((u) => ID_RE.test(u.href) && !u.href.includes(id), { timeout: 15_000 }),
		page.click('#redeploy')]);
	const m = page.url().match(ID_RE);
	check('failed: Redeploy starts a new deployment of the project', !!m && (m[1] || m[2]) !== id &&
		(await page.textContent('#project-link')).trim() === slug, page.url());
	await finalState(page);
	await context.close();
}

// The commit shows on the deployment page and the project page while the build still runs.
async function commitWhileBuilding(browser) {
	const slug = `dash-${token}-commit`;
	const { dir, commit } = commitBuildRepo(slug, ['#!/bin/sh', 'set -e', 'mkdir -p out',
		'for i in 1 2 3 4 5 6 7 8; do echo "step $i"; sleep 1; done',
		'echo "<h1>ok</h1>" > out/index.html', ''], 'a commit worth naming');
	const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
	const page = await context.newPage();
	const id = await deployFromForm(page, dir, slug);
	check('commit: the form lands on the deployment page', !!id, page.url());
	if (!id) return context.close();
	await page.waitForFunction(() => /step 1/.test(document.getElementById('log').textContent), null, { timeout: 30_000 })
		.catch(() => {});
	const shown = await page.waitForFunction((c) => document.getElementById('commit').textContent.trim() === c,
		commit.slice(0, 12), { timeout: 4_000 }).then(() => true, () => false);
	const now = await page.evaluate(() => ({ state: document.getElementById('state').textContent.trim(),
		commit: document.getElementById('commit').textContent, message: document.getElementById('commit-message').textContent }));
	check('commit: the live page shows the commit while building', shown && now.state === 'building' &&
		now.message === 'a commit worth naming', JSON.stringify(now));
	const other = await context.newPage();
	await other.goto(`${STACK_URL}/projects/${slug}`);
	const cell = ((await other.textContent(`tr[data-deployment-id="${id}"] td.commit`).catch(() => '')) || '').trim();
	const state = await other.getAttribute(`tr[data-deployment-id="${id}"]`, 'data-state');
	check('commit: the project page shows the commit of the running build', state === 'building' &&
		cell.startsWith(commit.slice(0, 7)), `${state} ${cell}`);
	await shot(page, 'building');
	check('commit: the build then succeeds', (await finalState(page)) === 'ready');
	await context.close();
}

// A form error: the form comes back with everything typed, the message names the field by its
// label, and the field is marked.
async function formError(browser) {
	const slug = `dash-${token}-form`;
	const { dir } = commitRepo(slug, { 'index.html': '<h1>form</h1>\n' });
	const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
	const page = await context.newPage();
	await page.goto(`${STACK_URL}/`);
	const hint = await page.waitForFunction(() => /file:\/\//.test(document.getElementById('gitURL-hint').textContent),
		null, { timeout: 5_000 }).then(() => true, () => false);
	check('form: the repository hint says this server accepts file:// URLs', hint,
		await page.textContent('.field .hint').catch(() => ''));
	const typed = { gitURL: `file://${dir}`, slug: 'two--hyphens', branch: 'main', installCommand: 'true',
		buildCommand: 'echo built' };
	await page.fill('#gitURL', typed.gitURL);
	await page.fill('#slug', typed.slug);
	await page.fill('#branch', typed.branch);
	await page.click('details.advanced > summary');
	await page.fill('#installCommand', typed.installCommand);
	await page.fill('#buildCommand', typed.buildCommand);
	const [resp] = await Promise.all([page.waitForNavigation({ timeout: 15_000 }), page.click('#deploy-button')]);
	const text = (sel) => page.textContent(sel, { timeout: 2_000 }).catch(() => '');
	check('form: a refused form answers 400', resp && resp.status() === 400, resp && String(resp.status()));
	const message = ((await text('#form-error')) || (await text('main')) || '').trim().replace(/\s+/g, ' ');
	check('form: the error names the field by its label, Name, not "slug"',
		/\bName\b/.test(message) && !/slug/i.test(message) && /--/.test(message), message);
	const values = {};
	for (const k of Object.keys(typed)) values[k] = await page.inputValue(`#${k}`, { timeout: 2_000 }).catch(() => null);
	check('form: everything typed is still in the form', JSON.stringify(values) === JSON.stringify(typed),
		JSON.stringify(values));
	check('form: the field in error is marked and has the focus',
		(await page.getAttribute('#slug', 'aria-invalid', { timeout: 2_000 }).catch(() => null)) === 'true' &&
		await page.evaluate(() => document.activeElement && document.activeElement.id === 'slug'));
	await shot(page, 'form-error');
	await page.setViewportSize({ width: 390, height: 844 });
	await shot(page, 'form-error-phone');
	await page.setViewportSize({ width: 1100, height: 900 });

	// correcting the name on that page deploys
	if (!await page.isVisible('#deploy-form')) await page.goto(`${STACK_URL}/`);
	await page.fill('#gitURL', typed.gitURL);
	await page.fill('#slug', slug);
	await Promise.all([page.waitForURL(ID_RE, { timeout: 15_000 }), page.click('#deploy-button')]);
	check('form: correcting the field on the error page deploys', ID_RE.test(page.url()), page.url());
	await finalState(page);

	// the same name again: "the name … is already taken"
	await page.goto(`${STACK_URL}/`);
	await page.fill('#gitURL', typed.gitURL);
	await page.fill('#slug', slug);
	await Promise.all([page.waitForNavigation({ timeout: 15_000 }), page.click('#deploy-button')]);
	const taken = ((await text('#form-error')) || (await text('main')) || '').trim().replace(/\s+/g, ' ');
	check('form: a taken name is called a name', /the name '.*' is already taken/.test(taken) && !/slug/.test(taken), taken);
	await context.close();

	const nojs = await browser.newContext({ javaScriptEnabled: false });
	const p2 = await nojs.newPage();
	await p2.goto(`${STACK_URL}/project`);
	check('form: without JavaScript the server-rendered form gives the same hint',
		/file:\/\//.test(await p2.textContent('#gitURL-hint', { timeout: 2_000 }).catch(() => '')));
	await nojs.close();
}

// Three ready deployments, a rollback to the middle one: only the older one is offered.
async function rollbackAndPhone(browser) {
	const slug = `dash-${token}-roll`;
	const { dir } = commitRepo(slug, { 'index.html': '<h1>rollback</h1>\n' },
		'a long commit message that would push a table wider than a phone screen');
	const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
	const page = await context.newPage();
	const ids = [await deployFromForm(page, dir, slug)];
	await finalState(page);
	for (let i = 0; i < 2; i++) {
		await page.goto(`${STACK_URL}/projects/${slug}`);
		await Promise.all([page.waitForURL(ID_RE, { timeout: 15_000 }), page.click('#redeploy')]);
		const m = page.url().match(ID_RE);
		ids.push(m && (m[1] || m[2]));
		await finalState(page);
	}
	check('rollback: three deployments built', ids.every(Boolean), ids.join(','));
	const offered = async () => {
		await page.goto(`${STACK_URL}/projects/${slug}`);
		return page.$$eval('tr[data-deployment-id]', (rows) => rows
			.filter((r) => r.querySelector('button.rollback')).map((r) => r.dataset.deploymentId).sort());
	};
	let o = await offered();
	check('rollback: before any rollback, the two older deployments are offered',
		JSON.stringify(o) === JSON.stringify([ids[0], ids[1]].sort()), o.join(','));
	await Promise.all([page.waitForNavigation({ timeout: 15_000 }),
		page.click(`tr[data-deployment-id="${ids[1]}"] button.rollback`)]);
	o = await offered();
	check('rollback: after rolling back to the middle one, only the older one is offered',
		JSON.stringify(o) === JSON.stringify([ids[0]]), o.join(','));
	await shot(page, 'project');

	// [page, path, whether it has buttons]
	for (const [name, path, buttons] of [['project', `/projects/${slug}`, true], ['projects', '/projects', false],
		['deployment', `/deployments/${ids[1]}`, false], ['home', '/', true]]) {
		await page.setViewportSize({ width: 390, height: 844 });
		await page.goto(`${STACK_URL}${path}`);
		await page.waitForTimeout(300);
		const r = await page.evaluate(() => {
			const w = window.innerWidth;
			const wide = [];
			for (const e of document.querySelectorAll('body *')) {
				const b = e.getBoundingClientRect();
				if (b.width === 0 && b.height === 0) continue;
				if (b.right > w + 0.5 || b.left < -0.5)
					wide.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className ? '.' + String(e.className).replace(/ /g, '.') : ''} ${Math.round(b.left)}-${Math.round(b.right)}`);
			}
			const buttons = [...document.querySelectorAll('main button')].filter((btn) => btn.offsetParent)
				.map((btn) => { const b = btn.getBoundingClientRect(); return b.left >= 0 && b.right <= w; });
			return { scroll: document.documentElement.scrollWidth - w, wide: wide.slice(0, 5), buttons };
		});
		check(`phone: the ${name} page has no element wider than 390 px and no sideways scroll`,
			r.scroll <= 0 && r.wide.length === 0, `scroll ${r.scroll}px; ${r.wide.join(' | ')}`);
		if (buttons)
			check(`phone: every button on the ${name} page is within the screen`,
				r.buttons.length > 0 && r.buttons.every(Boolean), JSON.stringify(r.buttons));
		await shot(page, `${name}-phone`);
		await page.setViewportSize({ width: 1100, height: 900 });
	}
	await context.close();
}

await runAll(timer, [[failedProject, 'the failed-project run'], [commitWhileBuilding, 'the commit run'],
	[formError, 'the form-error run'], [rollbackAndPhone, 'the rollback and phone run']]);
