// previews.test.mjs — the project page lists production and previews apart, each with its
// address: a project with previews of feature/*, production built from the form, a signed
// GitHub push to feature/login that builds a preview; and the preview deployment's page says
// its context and branch; the deploy form sets previews.
import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { STACK_URL, ID_RE, check, guard, commitRepo, runAll } from './lib.mjs';

const timer = guard();
const token = Math.random().toString(36).slice(2, 8);
const SECRET = 'browser-preview-secret-0123456789';

function git(dir, ...args) {
	return execFileSync('git', ['-c', 'user.name=skiff test', '-c', 'user.email=test@skiff.invalid',
		...args], { cwd: dir, stdio: 'pipe' }).toString().trim();
}

// Waits until deployment id is ready (or fails); resolves to its state.
async function settle(request, id) {
	for (let i = 0; i < 300; i++) {
		const r = await request.get(`${STACK_URL}/api/deployments/${id}`);
		const state = r.ok() ? (await r.json()).data.state : 'missing';
		if (['ready', 'error', 'canceled'].includes(state)) return state;
		await new Promise((res) => setTimeout(res, 300));
	}
	return 'timeout';
}

async function previewsListed(browser) {
	const slug = `prev-${token}`;
	const { dir } = commitRepo(slug, { 'index.html': '<h1>production</h1>\n' });
	git(dir, 'branch', '-M', 'main');
	git(dir, 'checkout', '-q', '-b', 'feature/login');
	execFileSync('sh', ['-c', 'echo "<h1>login</h1>" > index.html'], { cwd: dir });
	git(dir, 'commit', '-qam', 'login page');
	const head = git(dir, 'rev-parse', 'HEAD');
	git(dir, 'checkout', '-q', 'main');

	const context = await browser.newContext({ viewport: { width: 1100, height: 900 } });
	const request = context.request;
	const created = await request.post(`${STACK_URL}/api/projects`, {
		headers: { Origin: STACK_URL },
		data: { gitURL: `file://${dir}`, slug, branch: 'main', webhookSecret: SECRET, previews: ['feature/*'] },
	});
	check('previews: the project is created', created.status() === 202, String(created.status()));
	const prod = (await created.json()).data.deploymentId;
	check('previews: production is built', await settle(request, prod) === 'ready');

	const body = JSON.stringify({
		ref: 'refs/heads/feature/login', before: '0'.repeat(39) + '1', after: head, deleted: false,
		head_commit: { id: head, message: 'login page' },
		repository: { clone_url: `file://${dir}`, html_url: `file://${dir}`, default_branch: 'main' },
	});
	const hook = await request.post(`${STACK_URL}/api/hooks/github?project=${slug}`, {
		headers: {
			'Content-Type': 'application/json', 'X-GitHub-Event': 'push',
			'X-GitHub-Delivery': `browser-${token}`,
			'X-Hub-Signature-256': 'sha256=' + createHmac('sha256', SECRET).update(body).digest('hex'),
		},
		data: body,
	});
	const answer = await hook.json();
	check('previews: the push to feature/login is queued as a preview', hook.status() === 202 &&
		answer.data.deployments[0].context === 'preview', JSON.stringify(answer));
	const pid = answer.data.deployments[0].deploymentId;
	const purl = answer.data.deployments[0].previewUrl;
	check('previews: the preview is built', await settle(request, pid) === 'ready');

	const page = await context.newPage();
	await page.goto(`${STACK_URL}/projects/${slug}`);
	const prodIds = await page.$$eval('#deployments tr[data-deployment-id]', (r) => r.map((e) => e.dataset.deploymentId));
	check('previews: the production table lists production only', prodIds.includes(prod) && !prodIds.includes(pid),
		prodIds.join(','));
	const prodUrl = await page.textContent('#project-url').catch(() => '');
	check('previews: production shows its address', new RegExp(`^http://${slug}\\.`).test(prodUrl), prodUrl);
	const row = page.locator('#previews tr[data-preview]');
	check('previews: one preview listed', await row.count() === 1, String(await row.count()));
	const link = await row.locator('a').first().getAttribute('href').catch(() => '');
	check('previews: with its branch address', link === purl && /--b-feature-login-[0-9a-f]{8}\./.test(link),
		`${link} vs ${purl}`);
	check('previews: and its branch', /feature\/login/.test(await row.textContent()));
	const previewIds = await page.$$eval('#preview-deployments tr[data-deployment-id]', (r) => r.map((e) => e.dataset.deploymentId));
	check('previews: the preview deployment is listed apart', previewIds.length === 1 && previewIds[0] === pid,
		previewIds.join(','));

	await page.goto(`${STACK_URL}/deployments/${pid}`);
	const ctx = (await page.textContent('#context')).trim();
	check('previews: the deployment page says its context', /^preview at /.test(ctx), ctx);
	check('previews: ... and its branch', (await page.textContent('#branch')).trim() === 'feature/login');
	await page.goto(`${STACK_URL}/deployments/${prod}`);
	check('previews: a production deployment says production', (await page.textContent('#context')).trim() === 'production');
	await context.close();
}

// The deploy form sets previews; a pattern that is no branch name comes back on the field.
async function formPreviews(browser) {
	const slug = `prevform-${token}`;
	const { dir } = commitRepo(slug, { 'index.html': '<h1>form</h1>\n' });
	const page = await browser.newPage();
	const submit = async (previews) => {
		await page.goto(`${STACK_URL}/`);
		await page.fill('#gitURL', `file://${dir}`);
		await page.fill('#slug', slug);
		await page.click('details.advanced summary');
		await page.fill('#previews', previews);
		await Promise.all([page.waitForLoadState('load'), page.click('#deploy-button')]);
	};
	await submit('feature/* a..b');
	const field = await page.getAttribute('#form-error', 'data-field').catch(() => null);
	check('form: a bad previews pattern is reported on the Previews field', field === 'previews', String(field));
	check('form: ... with what was typed kept', await page.inputValue('#previews') === 'feature/* a..b');
	await submit('feature/*, staging');
	await page.waitForURL(ID_RE, { timeout: 15_000 }).catch(() => {});
	const r = await page.request.get(`${STACK_URL}/api/projects/${slug}`);
	const got = r.ok() ? JSON.stringify((await r.json()).data.previews) : String(r.status());
	check('form: the project gets the previews typed', got === '["feature/*","staging"]', got);
	await page.close();
}

await runAll(timer, [[previewsListed, 'the previews run'], [formPreviews, 'the form run']]);
