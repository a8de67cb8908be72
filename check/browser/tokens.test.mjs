// tokens.test.mjs — deploy tokens on a project's page, in a real browser with JavaScript on and
// off: the page lists none, the form creates one and the answer shows its secret once (a Copy
// button only with JavaScript), the secret works as a bearer token (GET /api/whoami), the list
// shows name, scope, created and last used but never the secret, and Revoke removes it (the
// secret stops working).
import { STACK_URL, check, guard, runAll } from './lib.mjs';

const timer = guard();
const SECRET_RE = /^skiff_[a-z2-7]{32}$/;

// A project made through the API (its git build fails at once: the tokens do not care).
async function makeProject(slug) {
	const r = await fetch(`${STACK_URL}/api/projects`, {
		method: 'POST',
		headers: { 'Content-Type': 'application/json', Origin: STACK_URL },
		body: JSON.stringify({ gitURL: `file:///nonexistent/${slug}`, slug, webhookSecret: false }),
	});
	return r.status;
}

async function whoami(secret) {
	const r = await fetch(`${STACK_URL}/api/whoami`, { headers: { Authorization: `Bearer ${secret}` } });
	return { status: r.status, body: await r.json().catch(() => ({})) };
}

async function tokensRun(browser, js) {
	const slug = js ? 'tokens-js' : 'tokens-nojs';
	const how = js ? 'with JavaScript' : 'without JavaScript';
	check(`${how}: the project is created`, (await makeProject(slug)) === 202);
	const context = await browser.newContext({ javaScriptEnabled: js, viewport: { width: 1100, height: 900 } });
	const page = await context.newPage();
	await page.goto(`${STACK_URL}/projects/${slug}`);
	check(`${how}: the page says there are no tokens yet`, await page.isVisible('#no-tokens'));

	await page.fill('#token-name', 'github actions');
	await page.selectOption('#token-scope', 'preview');
	const [answer] = await Promise.all([
		page.waitForNavigation({ timeout: 15_000 }),
		page.click('#token-create'),
	]);
	check(`${how}: the form's answer is 201`, answer && answer.status() === 201, answer && String(answer.status()));
	check(`${how}: the answer is never cached`, /no-store/.test((answer && (await answer.allHeaders())['cache-control']) || ''));
	const secret = await page.inputValue('#token-secret');
	check(`${how}: the answer page shows the secret`, SECRET_RE.test(secret), secret);
	check(`${how}: it says the secret is shown once`, /never show it again/.test(await page.textContent('main')));
	check(`${how}: name and scope as created`,
		(await page.textContent('#token-name')) === 'github actions' && (await page.textContent('#token-scope')) === 'preview');
	check(`${how}: a Copy button ${js ? 'is shown' : 'only with JavaScript'}`, (await page.isVisible('#token-copy')) === js);

	const who = await whoami(secret);
	check(`${how}: the secret authenticates as a preview token of ${slug}`,
		who.status === 200 && who.body.data.kind === 'deploy_token' && who.body.data.project === slug &&
		who.body.data.scope === 'preview', JSON.stringify(who));

	await page.click('#token-back');
	await page.waitForURL(new RegExp(`/projects/${slug}#tokens$`));
	const row = page.locator('#token-list tbody tr');
	check(`${how}: the list has the token`, (await row.count()) === 1);
	check(`${how}: name and scope in the list`,
		(await row.locator('.token-name').textContent()) === 'github actions' &&
		(await row.locator('.token-scope').textContent()) === 'preview');
	check(`${how}: last used is the whoami call, not "never"`,
		!/never/.test(await row.locator('.token-used').textContent()));
	check(`${how}: the project page never shows the secret`, !(await page.content()).includes(secret));

	await Promise.all([
		page.waitForURL(new RegExp(`/projects/${slug}#tokens$`), { timeout: 15_000 }),
		row.locator('button.revoke').click(),
	]);
	check(`${how}: after Revoke the list is empty`, await page.isVisible('#no-tokens'));
	const after = await whoami(secret);
	check(`${how}: a revoked secret is refused (401 invalid_token)`,
		after.status === 401 && after.body.error && after.body.error.code === 'invalid_token', JSON.stringify(after));

	// a name the API refuses comes back as a page that says why and links back
	await page.fill('#token-name', 'bad\u0007name');
	const [bad] = await Promise.all([page.waitForNavigation({ timeout: 15_000 }), page.click('#token-create')]);
	check(`${how}: a bad name: 400 with the reason`, bad && bad.status() === 400 &&
		(await page.getAttribute('#error', 'data-code')) === 'invalid_token_name', bad && String(bad.status()));
	await context.close();
}

await runAll(timer, [
	[(b) => tokensRun(b, true), 'the tokens run with JavaScript'],
	[(b) => tokensRun(b, false), 'the tokens run without JavaScript'],
]);
