// `npm run screenshots` (with the sandbox running): the portal's main screens as caseworkers and an
// information-governance officer meet them, saved under docs/screenshots/ for the README. Chromium
// (portal/browser.ts) through playwright-core. It views and breaks glass as the sandbox's synthetic caseworkers
// (audited like any other look) but links no record.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from './browser.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'docs', 'screenshots');
mkdirSync(out, { recursive: true });
type Caseworker = { username: string; roles: string[]; allocatedChildren: string[] };
const demo = JSON.parse(execFileSync('npm', ['run', '-s', 'mais', '--', 'demo', '--json'], { cwd: root, encoding: 'utf8' })) as {
  exampleChildren: { label: string; nhsNumber: string }[];
  las: { code: string; portalUrl: string; caseworkers: Caseworker[]; unmatchedRecords: { givenName: string | null; familyName: string | null; dateOfBirth: string | null }[] }[];
};
const moved = demo.exampleChildren.find((c) => c.label === 'held_by_both_las');
const la = demo.las.find((l) => l.code === 'northshire')!;
const worker = la.caseworkers.find((w) => moved && w.allocatedChildren.includes(moved.nhsNumber));
const other = la.caseworkers.find((w) => moved && w.roles.includes('csc.practitioner') && !w.allocatedChildren.includes(moved.nhsNumber));
const unmatched = la.unmatchedRecords.find((r) => r.givenName && r.familyName && r.dateOfBirth);
if (!moved || !worker || !other || !unmatched) throw new Error('the sandbox has no child held by both LAs with an allocated worker, or no unmatched record: start it with the default population');

const taken: string[] = [];
async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
  taken.push(name);
}

async function signIn(browser: Browser, username: string, landing: string, before?: (page: Page) => Promise<void>): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  await page.goto(la.portalUrl);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Username').fill(username);
  await before?.(page);
  await page.getByLabel('Password').fill('sandbox');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: landing, level: 1 }).waitFor();
  return page;
}

/** Shows the single view, asking again while a source is still waking up after the sandbox started. */
async function showSingleView(page: Page, nhsNumber: string): Promise<void> {
  await page.getByLabel('NHS number', { exact: true }).fill(nhsNumber);
  for (let tries = 0; tries < 3; tries++) {
    await page.getByRole('button', { name: tries === 0 ? 'Show the single view' : 'Try again' }).click();
    await page.getByRole('heading', { name: 'Shared by other local authorities' }).waitFor();
    await page.getByRole('status').filter({ hasText: 'Asking every source' }).waitFor({ state: 'detached' });
    if ((await page.getByText(/is unavailable/).count()) === 0) break;
  }
}

const { browser } = await launchChromium();
try {
  // The allocated practitioner: sign in, choose a purpose, the single view (and at 320 px).
  const page = await signIn(browser, worker.username, 'Find a child', (p) => shot(p, '1-sign-in'));
  await page.getByLabel('Why are you looking?').selectOption('CHILD_PROTECTION_ENQUIRY');
  await page.getByLabel('NHS number', { exact: true }).fill(moved.nhsNumber);
  await shot(page, '2-find-a-child');
  await showSingleView(page, moved.nhsNumber);
  await shot(page, '3-single-view');
  await page.setViewportSize({ width: 320, height: 800 });
  await shot(page, '4-single-view-320px');

  // Search for a record without an NHS number, and ask MATCH (nothing is linked here).
  const search = await signIn(browser, worker.username, 'Find a child');
  await search.getByLabel('Why are you looking?').selectOption('CHILD_IN_NEED_ASSESSMENT');
  await search.getByLabel('Family name').fill(unmatched.familyName!);
  const [year, month, day] = unmatched.dateOfBirth!.split('-');
  const form = search.getByRole('form', { name: 'By name, date of birth and postcode' });
  await form.getByLabel('Day').fill(String(Number(day)));
  await form.getByLabel('Month').fill(String(Number(month)));
  await form.getByLabel('Year').fill(year!);
  await search.getByRole('button', { name: 'Search', exact: true }).click();
  await search.getByRole('button', { name: /^Match .* now$/ }).first().click();
  await search.getByRole('button', { name: 'Ask MATCH' }).click();
  await search.getByRole('definition').first().waitFor();
  await shot(search, '5-search-and-match');

  // An unallocated practitioner breaks glass; the information-governance officer sees it.
  const glass = await signIn(browser, other.username, 'Find a child');
  await glass.getByLabel('Why are you looking?').selectOption('CHILD_PROTECTION_ENQUIRY');
  await glass.getByLabel('Break glass: I need the full record of a child I am not allocated to').check();
  await glass.getByLabel('Reason').fill('Police called out of hours: the duty worker needs the plan now');
  await glass.getByLabel('NHS number', { exact: true }).fill(moved.nhsNumber);
  await shot(glass, '6-break-glass');
  await showSingleView(glass, moved.nhsNumber);
  const officer = await signIn(browser, 'ig.officer', 'Audit');
  await officer.getByLabel('NHS number', { exact: true }).fill(moved.nhsNumber);
  await officer.getByRole('button', { name: 'Show the audit trail' }).click();
  await officer.getByRole('table').first().waitFor();
  await officer.getByRole('button', { name: 'Show break-glass accesses' }).click();
  await officer.getByRole('table', { name: 'Break-glass accesses, oldest first' }).waitFor();
  await shot(officer, '7-audit');
  process.stderr.write(`screenshots in ${out}: ${taken.join(', ')}\n`);
} finally {
  await browser.close();
}
