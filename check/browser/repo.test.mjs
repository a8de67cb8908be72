// repo.test.mjs — the project page's "Repository access" section as a user meets it: save an
// access token (never shown again, not even in the page's source), generate a deploy key and
// copy its public half, rotate and remove it, remove the token; all usable on a 390-pixel-wide
// phone. Run by check/browser/run.sh, which starts the stack and sets STACK_URL.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { STACK_URL, OUT, ID_RE, check, guard, finalState, runAll } from './lib.mjs';

const timer = guard();
mkdirSync(OUT, { recursive: true });
const tag = Math.random().toString(36).slice(2, 8);
const shot = (page, name) => page.screenshot({ path: join(OUT, `repo-${name}.png`), fullPage: true });
const SECRET = `ghp_browserSecret${tag}0123456789`;

async function repositoryAccess(browser) {
	const slug = `repo-${tag}`;
	const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
	const page = await context.newPage();
	// a private repository on a server that is not there: the first build fails, as it does
	// before its credentials are set, and the project is there to set them on
	await page.goto(`${STACK_URL}/`);
	await page.fill('#gitURL', 'http://127.0.0.1:1/private/site.git');
	await page.fill('#slug', slug);
	await Promise.all([page.waitForURL(ID_RE, { timeout: 15_000 }), page.click('#deploy-button')]);
	check('repo: the first build of the private repository fails', (await finalState(page)) === 'error', page.url());
	await page.goto(`${STACK_URL}/projects/${slug}`);
	check('repo: the project page has a Repository access section', await page.isVisible('#repo-access'));
	check('repo: no token at first', /No token/.test(await page.textContent('#repo-token')));

	await page.fill('#repo-token-value', SECRET);
	await page.fill('#repo-token-user', 'oauth2');
	await Promise.all([page.waitForURL(`${STACK_URL}/projects/${slug}`, { timeout: 10_000 }),
		page.click('#repo-token-form button[type=submit]')]);
	const tokenText = await page.textContent('#repo-token');
	check('repo: the saved token is shown as set, with its user', /A token is set for user oauth2/.test(tokenText),
		tokenText);
	check('repo: the token itself is nowhere in the page', !(await page.content()).includes(SECRET));
	check('repo: the token field is empty again', (await page.inputValue('#repo-token-value')) === '');

	await Promise.all([page.waitForURL(`${STACK_URL}/projects/${slug}`, { timeout: 10_000 }),
		page.click('#deploy-key-generate')]);
	const pub = (await page.inputValue('#deploy-key-public').catch(() => '')).trim();
	const fp = (await page.textContent('#deploy-key-fingerprint').catch(() => '')).trim();
	check('repo: a generated key shows its public half to copy',
		new RegExp(`^ssh-ed25519 AAAAC3NzaC1lZDI1NTE5\\S+ skiff-${slug}$`).test(pub), pub);
	check('repo: and its SHA-256 fingerprint', /^SHA256:[A-Za-z0-9+/]{43}$/.test(fp), fp);
	check('repo: no private key is in the page', !/PRIVATE KEY|b3BlbnNzaC1rZXktdjE/.test(await page.content()));
	await shot(page, 'project');

	await Promise.all([page.waitForURL(`${STACK_URL}/projects/${slug}`, { timeout: 10_000 }),
		page.click('#deploy-key-rotate')]);
	const fp2 = (await page.textContent('#deploy-key-fingerprint').catch(() => '')).trim();
	check('repo: Rotate key makes another key', /^SHA256:/.test(fp2) && fp2 !== fp, `${fp} → ${fp2}`);

	await page.setViewportSize({ width: 390, height: 844 });
	await page.goto(`${STACK_URL}/projects/${slug}`);
	await page.waitForTimeout(300);
	const r = await page.evaluate(() => {
		const w = window.innerWidth;
		const wide = [];
		for (const e of document.querySelectorAll('#repo-access, #repo-access *')) {
			const b = e.getBoundingClientRect();
			if (b.width === 0 && b.height === 0) continue;
			if (b.right > w + 0.5 || b.left < -0.5)
				wide.push(`${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''} ${Math.round(b.left)}-${Math.round(b.right)}`);
		}
		const buttons = [...document.querySelectorAll('#repo-access button')]
			.map((btn) => { const b = btn.getBoundingClientRect(); return b.left >= 0 && b.right <= w; });
		return { scroll: document.documentElement.scrollWidth - w, wide: wide.slice(0, 5), buttons };
	});
	check('repo: on a phone the section fits 390 px without sideways scroll', r.scroll <= 0 && r.wide.length === 0,
		`scroll ${r.scroll}px; ${r.wide.join(' | ')}`);
	check('repo: on a phone every button of the section is within the screen',
		r.buttons.length >= 3 && r.buttons.every(Boolean), JSON.stringify(r.buttons));
	await shot(page, 'project-phone');
	await page.setViewportSize({ width: 1100, height: 900 });

	await Promise.all([page.waitForURL(`${STACK_URL}/projects/${slug}`, { timeout: 10_000 }),
		page.click('#deploy-key-remove')]);
	check('repo: Remove key leaves no deploy key', await page.isVisible('#deploy-key-generate') &&
		!(await page.isVisible('#deploy-key-public')));
	await Promise.all([page.waitForURL(`${STACK_URL}/projects/${slug}`, { timeout: 10_000 }),
		page.click('#repo-token-remove')]);
	check('repo: Remove token leaves no token', /No token/.test(await page.textContent('#repo-token')));
	await context.close();
}

await runAll(timer, [[repositoryAccess, 'the repository access run']]);
