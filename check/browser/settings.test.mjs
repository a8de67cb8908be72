// settings.test.mjs — a project's settings page as a user meets it: reached from the project
// page, works without JavaScript, saves variables (a secret shown as set, never its value),
// keeps what was typed after an error, the next build uses the new settings with the secret
// masked in its log, and a 390-pixel-wide phone shows it without sideways scrolling. Run by
// check/browser/run.sh, which starts the stack (allow_local_git = true) and sets STACK_URL.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_URL, OUT, ID_RE, check, guard, commitBuildRepo, deployFromForm, finalState,
	runAll } from './lib.mjs';

const timer = guard();
mkdirSync(OUT, { recursive: true });
const token = Math.random().toString(36).slice(2, 8);
const shot = (page, name) => page.screenshot({ path: join(OUT, `settings-${name}.png`), fullPage: true });
const SECRET = `browser-secret-${token}-value`;

async function settings(browser) {
	const slug = `set-${token}`;
	const { dir } = commitBuildRepo(slug, ['#!/bin/sh', 'set -e', 'mkdir -p out',
		'echo "greeting=${GREETING:-none}"', 'echo "key=${API_KEY:-none}"', 'echo "branch=$SKIFF_BRANCH"',
		'echo "<h1>${GREETING:-none}</h1>" > out/index.html', '']);
	const js = await browser.newContext({ viewport: { width: 1100, height: 900 } });
	const page = await js.newPage();
	const first = await deployFromForm(page, dir, slug);
	check('the first deploy lands on its page', !!first, page.url());
	check('the first build is ready', (await finalState(page)) === 'ready');
	await page.goto(`${STACK_URL}/projects/${slug}`);
	await Promise.all([page.waitForURL(/\/settings$/, { timeout: 10_000 }), page.click('#settings-link')]);
	check('the project page links to its settings', /\/projects\/.*\/settings$/.test(page.url()), page.url());
	check('the settings page shows the stored repository', (await page.inputValue('#gitURL')) === `file://${dir}`);
	await js.close();

	// without JavaScript, as a plain form
	const nojs = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1100, height: 900 } });
	const p = await nojs.newPage();
	await p.goto(`${STACK_URL}/projects/${slug}/settings`);
	await p.fill('[name="env.0.name"]', 'GREETING');
	await p.fill('[name="env.0.value"]', 'hello-from-settings');
	await p.fill('[name="env.1.name"]', 'API_KEY');
	await p.fill('[name="env.1.value"]', SECRET);
	await p.check('[name="env.1.secret"]');
	await Promise.all([p.waitForURL(/saved=1/, { timeout: 10_000 }), p.click('#save-button')]);
	check('without JavaScript the form saves and says so', await p.isVisible('#saved'), p.url());
	const html = await p.content();
	check('the page never carries the secret\'s value', !html.includes(SECRET));
	const rows = await p.$$eval('fieldset.env-row', (fs) => fs.map((f) => ({
		name: f.querySelector('input[name$=".name"]').value,
		type: f.querySelector('input[name$=".value"]').type,
		value: f.querySelector('input[name$=".value"]').value,
		secret: f.querySelector('input[name$=".secret"]').checked })));
	const key = rows.find((r) => r.name === 'API_KEY') || {};
	const greet = rows.find((r) => r.name === 'GREETING') || {};
	check('the secret row is a password field, empty, marked secret', key.type === 'password' && key.value === '' &&
		key.secret === true, JSON.stringify(key));
	check('the plain variable shows its value', greet.value === 'hello-from-settings', JSON.stringify(greet));
	check('the history names the change', /env/.test(await p.textContent('#changes')));
	await shot(p, 'saved');

	// previews, forks' pull requests and HSTS, from the plain form
	const project = async (pg) => {
		const r = await pg.request.get(`${STACK_URL}/api/projects/${slug}`);
		const j = r.ok() ? await r.json() : {};
		return j.data || {};
	};
	check('the settings page links to repository access on the project page',
		(await p.getAttribute('#repo-access-link', 'href')) === `/projects/${slug}#repository`);
	check('previews start as "none", both boxes unchecked', (await p.inputValue('#previews')) === 'none' &&
		!(await p.isChecked('#previewForks')) && !(await p.isChecked('#hsts')));
	await p.fill('#previews', 'feature/*, staging\nrelease-*');
	await p.check('#previewForks');
	await p.check('#hsts');
	await Promise.all([p.waitForURL(/saved=1/, { timeout: 10_000 }), p.click('#save-button')]);
	let api = await project(p);
	check('the form sets previews to the pattern list', JSON.stringify(api.previews) ===
		JSON.stringify(['feature/*', 'staging', 'release-*']), JSON.stringify(api.previews));
	check('... and turns previewForks and hsts on', api.previewForks === true && api.hsts === true,
		JSON.stringify({ previewForks: api.previewForks, hsts: api.hsts }));
	check('... the page shows the patterns one a line and both boxes checked',
		(await p.inputValue('#previews')) === 'feature/*\nstaging\nrelease-*' &&
		await p.isChecked('#previewForks') && await p.isChecked('#hsts'), await p.inputValue('#previews'));
	const hist = await p.textContent('#changes');
	check('the history names previews, previewForks and hsts',
		/previews/.test(hist) && /previewForks/.test(hist) && /hsts/.test(hist), hist);
	await p.fill('#previews', 'feature/*, bad..name');
	await p.uncheck('#hsts');
	await p.click('#save-button');
	await p.waitForLoadState();
	const pvErr = await p.$('#form-error[data-field="previews"][data-code="invalid_previews"]');
	check('an invalid branch pattern is refused by the previews field', !!pvErr && await pvErr.isVisible());
	check('... the patterns as typed are still there', (await p.inputValue('#previews')) === 'feature/*, bad..name');
	check('... the field is marked invalid', (await p.getAttribute('#previews', 'aria-invalid')) === 'true');
	check('... and hsts as typed (unchecked)', !(await p.isChecked('#hsts')));
	api = await project(p);
	check('... and nothing was saved', JSON.stringify(api.previews) === JSON.stringify(['feature/*', 'staging',
		'release-*']) && api.hsts === true, JSON.stringify(api));
	await p.goto(`${STACK_URL}/projects/${slug}/settings`);

	// an error keeps what was typed, and changes nothing
	await p.fill('#branch', 'bad..name');
	await p.fill('#buildCommand', 'sh build.sh # typed');
	await p.click('#save-button');
	await p.waitForLoadState();
	const errBox = await p.$('#form-error[data-field="branch"]');
	check('an invalid branch is refused by its field', !!errBox && await errBox.isVisible());
	check('... the typed build command is still there', (await p.inputValue('#buildCommand')) === 'sh build.sh # typed');
	check('... and the branch as typed', (await p.inputValue('#branch')) === 'bad..name');
	check('... the secret is still only "set"', !(await p.content()).includes(SECRET));
	await shot(p, 'error');
	await p.goto(`${STACK_URL}/projects/${slug}/settings`);
	check('... and nothing was saved', (await p.inputValue('#buildCommand')) === '' && (await p.inputValue('#branch')) === '');

	// the next build uses the variables, the secret masked
	await p.goto(`${STACK_URL}/projects/${slug}`);
	await Promise.all([p.waitForURL(ID_RE, { timeout: 15_000 }), p.click('#redeploy')]);
	const m = p.url().match(ID_RE);
	const id = m && (m[1] || m[2]);
	let log = '';
	for (let i = 0; i < 120 && !/==> ready|==> error/.test(log); i++) {
		await p.waitForTimeout(500);
		const r = await p.request.get(`${STACK_URL}/api/deployments/${id}/log`);
		log = r.ok() ? await r.text() : '';
	}
	check('the next build sees the variable', /^greeting=hello-from-settings$/m.test(log), log.slice(-400));
	check('the next build masks the secret', /^key=\*\*\*$/m.test(log) && !log.includes(SECRET), log.slice(-400));
	check('the next build has SKIFF_BRANCH', /^branch=main$/m.test(log));
	await nojs.close();

	// with JavaScript: the boxes turned off again, previews back to none
	const js2 = await browser.newContext({ viewport: { width: 1100, height: 900 } });
	const pj = await js2.newPage();
	await pj.goto(`${STACK_URL}/projects/${slug}/settings`);
	await pj.fill('#previews', 'none');
	await pj.uncheck('#previewForks');
	await pj.uncheck('#hsts');
	await Promise.all([pj.waitForURL(/saved=1/, { timeout: 10_000 }), pj.click('#save-button')]);
	const off = await project(pj);
	check('with JavaScript the form turns previews, previewForks and hsts off', off.previews === 'none' &&
		off.previewForks === false && off.hsts === false, JSON.stringify(off));
	await js2.close();

	// a phone
	const phone = await browser.newContext({ viewport: { width: 390, height: 844 } });
	const q = await phone.newPage();
	await q.goto(`${STACK_URL}/projects/${slug}/settings`);
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
		const save = document.getElementById('save-button').getBoundingClientRect();
		return { scroll: document.documentElement.scrollWidth - w, wide: wide.slice(0, 5),
			save: save.left >= 0 && save.right <= w };
	});
	check('phone: the settings page has no element wider than 390 px and no sideways scroll',
		r.scroll <= 0 && r.wide.length === 0, `scroll ${r.scroll}px; ${r.wide.join(' | ')}`);
	check('phone: the save button is within the screen', r.save);
	await shot(q, 'phone');
	await phone.close();
}

await runAll(timer, [[settings, 'the settings run']]);
