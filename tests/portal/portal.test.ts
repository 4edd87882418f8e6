// The reference portal in a real browser (Debian's Chromium, driven by playwright-core) against a sandbox
// started here: a caseworker signs in at the LA's identity provider, chooses a purpose and sees the
// single view, including the other LA's shared summary; an unallocated practitioner sees the summary
// only; and an automated accessibility check finds no serious violation.
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run, start, type Started } from '../helpers/processes.ts';
import { killLeftovers, sandboxEnv } from '../helpers/sandbox.ts';

const CHROMIUM = '/usr/bin/chromium';
let env: NodeJS.ProcessEnv;
let dataDir: string;
let sandbox: Started;
let browser: Browser;
let portalUrl: string;
let demo: { exampleChildren: { label: string; nhsNumber: string }[]; las: { code: string; caseworkers: { username: string; roles: string[]; allocatedChildren: string[] }[] }[] };

beforeAll(async () => {
  if (!existsSync(CHROMIUM)) throw new Error(`browser tests need Chromium at ${CHROMIUM} (.ci/run installs it with apt-get)`);
  ({ env, dataDir } = await sandboxEnv(1500, 11));
  sandbox = start('npm', ['start'], env);
  await sandbox.waitFor(/MAIS sandbox ready/);
  portalUrl = /^northshire portal\s+(\S+)$/m.exec(sandbox.stdout())![1]!;
  demo = JSON.parse(run(['demo', '--json'], env).stdout);
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox'] });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (sandbox) await sandbox.interrupt('SIGINT');
  killLeftovers(dataDir);
});

/** Signs in through the identity provider's page; `forAxe` lets the test inject axe-core past the portal's CSP. */
async function signIn(username: string, forAxe = false): Promise<Page> {
  const page = await (await browser.newContext({ bypassCSP: forAxe })).newPage();
  await page.goto(portalUrl);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('sandbox');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Find a child' }).waitFor();
  return page;
}

async function view(page: Page, nhsNumber: string, purpose: string): Promise<void> {
  await page.getByLabel('NHS number').fill(nhsNumber);
  await page.getByLabel('Why are you looking?').selectOption(purpose);
  await page.getByRole('button', { name: 'Show the single view' }).click();
  await page.getByRole('heading', { name: 'Shared by other local authorities' }).waitFor();
}

describe('the portal in a browser', () => {
  it('signs an allocated practitioner in and shows the single view with the other LA’s shared summary', async () => {
    const moved = demo.exampleChildren.find((c) => c.label === 'held_by_both_las')!;
    const worker = demo.las.find((l) => l.code === 'northshire')!.caseworkers.find((w) => w.allocatedChildren.includes(moved.nhsNumber))!;
    const page = await signIn(worker.username, true);
    await expect.poll(() => page.locator('#purpose-basis').textContent()).toMatch(/only see what this purpose allows/);
    await page.getByLabel('Why are you looking?').selectOption('CHILD_PROTECTION_ENQUIRY');
    expect(await page.locator('#purpose-basis').textContent()).toMatch(/section 47/);
    await view(page, moved.nhsNumber, 'CHILD_PROTECTION_ENQUIRY');
    // A source that was slow (a service's first request after the sandbox starts can be) is named, with a retry.
    for (let tries = 0; tries < 3 && (await page.getByText(/is unavailable: what it holds is not shown/).count()) > 0; tries++) {
      await page.getByRole('button', { name: 'Try again' }).click();
      await page.getByRole('status').filter({ hasText: 'Asking every source' }).waitFor({ state: 'detached' }).catch(() => {});
      await page.waitForTimeout(500);
    }
    const shared = page.locator('ul.shared li');
    await expect.poll(() => shared.count()).toBe(1);
    await expect.poll(() => shared.first().textContent()).not.toMatch(/not available now/);
    expect(await shared.first().textContent()).toMatch(/^Southshire .*open case: (yes|no); child protection plan: (yes|no)/);
    expect(await page.getByRole('list', { name: 'Summary' }).textContent()).toMatch(/Open case: yes/);
    expect(await page.getByRole('table').count()).toBe(1);

    // No serious accessibility violation on the single view (axe-core, WCAG 2.x A and AA rules).
    const axe = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    await page.addScriptTag({ content: axe });
    const violations = (await page.evaluate(async () => {
      const result = await (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string }[] }> } }).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] } });
      return result.violations.map((v) => ({ id: v.id, impact: v.impact }));
    })) as { id: string; impact: string }[];
    expect(violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
  });

  it('gives an unallocated practitioner the summary only: shared records say they are withheld', async () => {
    const moved = demo.exampleChildren.find((c) => c.label === 'held_by_both_las')!;
    const other = demo.las.find((l) => l.code === 'northshire')!.caseworkers.find((w) => w.roles.includes('csc.practitioner') && !w.allocatedChildren.includes(moved.nhsNumber))!;
    const page = await signIn(other.username);
    await view(page, moved.nhsNumber, 'CHILD_PROTECTION_ENQUIRY');
    const section = page.locator('section.single-view');
    await expect.poll(() => section.getByText('Withheld for this purpose').count()).toBeGreaterThan(0);
    expect(await page.locator('ul.shared li').count()).toBe(0);
  });
});
