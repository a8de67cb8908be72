// lib.mjs — what the browser tests share: pass/fail counting, the chromium launch, test
// repositories, the deploy form. Not a test itself (run.sh runs *.test.mjs).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const STACK_URL = process.env.STACK_URL;          // http://localhost:PORT
export const PORT = process.env.STACK_PORT;
export const TMP = process.env.SKIFF_TMP || '/tmp';
export const OUT = process.env.SKIFF_OUT || 'check/out';
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
if (!STACK_URL || !PORT) {
	console.error('STACK_URL and STACK_PORT must be set (use check/browser/run.sh)');
	process.exit(2);
}

let passed = 0;
let failed = 0;
export function check(name, cond, detail = '') {
	if (cond) {
		passed++;
		console.log(`ok: ${name}`);
	} else {
		failed++;
		console.log(`FAIL: ${name}${detail ? ': ' + detail : ''}`);
	}
	return cond;
}
export function done() {
	console.log(`${passed} passed, ${failed} failed`);
	process.exit(failed ? 1 : 0);
}
// Fails the run when it takes longer than ms (the runner kills it at 300 s).
export function guard(ms = 280_000) {
	return setTimeout(() => {
		console.log(`FAIL: the test did not finish within ${ms / 1000} s`);
		failed++;
		done();
	}, ms);
}

// headless: true adds --headless; playwright gives every launch a fresh --user-data-dir.
export const launchArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
	'--disable-background-networking', '--disable-component-update', '--disable-sync',
	'--disable-default-apps', '--no-default-browser-check'];
export function launch() {
	return chromium.launch({ executablePath: CHROMIUM, headless: true, args: launchArgs });
}

// Runs each [run, name] with one browser (a run that throws is one failed check), then ends
// the test: clears the timer of guard() and reports.
export async function runAll(timer, runs) {
	const browser = await launch();
	for (const [run, name] of runs) {
		try {
			await run(browser);
		} catch (e) {
			check(`${name} completed`, false, e.stack || String(e));
		}
	}
	await browser.close();
	clearTimeout(timer);
	done();
}

function git(dir, ...args) {
	return execFileSync('git', ['-c', 'user.name=skiff test', '-c', 'user.email=test@skiff.invalid',
		'-c', 'init.defaultBranch=main', ...args], { cwd: dir, stdio: 'pipe' }).toString().trim();
}

// A committed git repository holding files ({path: text}); resolves to {dir, commit}.
export function commitRepo(name, files, message = `site ${name}`) {
	const dir = mkdtempSync(join(TMP, `${name}-`));
	for (const [path, text] of Object.entries(files)) writeFileSync(join(dir, path), text);
	git(dir, 'init', '-q');
	git(dir, 'add', '-A');
	git(dir, 'commit', '-q', '-m', message);
	return { dir, commit: git(dir, 'rev-parse', 'HEAD') };
}

// A committed git repository with skiff.json running build.sh (the given lines) into out/.
export function commitBuildRepo(name, lines, message) {
	return commitRepo(name, {
		'skiff.json': JSON.stringify({ buildCommand: 'sh build.sh', outputDirectory: 'out' }) + '\n',
		'build.sh': lines.join('\n'),
	}, message);
}

export const ID_RE = /\/deployments\/([a-z2-7]{12})$|\/deployment\.html\?id=([a-z2-7]{12})$/;

// Fills the deploy form and submits it; resolves to the new deployment's id (null on failure).
export async function deployFromForm(page, repo, slug) {
	await page.goto(`${STACK_URL}/`);
	await page.fill('#gitURL', `file://${repo}`);
	await page.fill('#slug', slug);
	await Promise.all([
		page.waitForURL(ID_RE, { timeout: 15_000 }),
		page.click('#deploy-button'),
	]);
	const m = page.url().match(ID_RE);
	return m && (m[1] || m[2]);
}

// The final state the deployment page's badge reaches ('timeout' when none within 90 s).
export async function finalState(page) {
	return page.waitForFunction(() => {
		const s = document.getElementById('state').textContent.trim();
		return s === 'ready' || s === 'error' || s === 'canceled' ? s : null;
	}, null, { timeout: 90_000 }).then((h) => h.jsonValue()).catch(() => 'timeout');
}
