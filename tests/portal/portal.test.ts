// The reference portal in a real browser (Chromium, driven by playwright-core) against a sandbox
// started here, as caseworkers and an information-governance officer meet it: sign in at the LA's
// identity provider; the single view with the other LA's shared summary; the summary only for an
// unallocated practitioner; search, MATCH and a confirmed link; break-glass and its audit; a stopped
// source named; 320 px; sign-out; trusted documents; and an automated accessibility check.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchChromium } from '../../portal/browser.ts';
import { unmatchedRecords, type UnmatchedRecord } from '../../sandbox/population/cache.ts';
import { run } from '../helpers/processes.ts';
import { sharedSandbox } from '../helpers/shared-sandbox.ts';

let env: NodeJS.ProcessEnv;
let dataDir: string;
let browser: Browser;
let portalUrl: string;
let routerUrl: string;
type Caseworker = { username: string; roles: string[]; allocatedChildren: string[] };
let demo: { exampleChildren: { label: string; nhsNumber: string }[]; las: { code: string; caseworkers: Caseworker[] }[] };
let moved: string;
let allocated: Caseworker;
let unallocated: Caseworker;

beforeAll(async () => {
  // Debian's Chromium where it is installed, otherwise the one npm install brought; none is a failure that says what to install.
  ({ browser } = await launchChromium());
  // The sandbox shared with other files (tests/helpers/shared-sandbox.ts): nothing here relies on what they did to it.
  const sandbox = await sharedSandbox();
  ({ env, dataDir } = sandbox);
  portalUrl = /^northshire portal\s+(\S+)$/m.exec(sandbox.stdout())![1]!;
  routerUrl = /^northshire router\s+(\S+)$/m.exec(sandbox.stdout())![1]!;
  demo = JSON.parse(run(['demo', '--json'], env).stdout);
  moved = demo.exampleChildren.find((c) => c.label === 'held_by_both_las')!.nhsNumber;
  const northshire = demo.las.find((l) => l.code === 'northshire')!.caseworkers;
  allocated = northshire.find((w) => w.allocatedChildren.includes(moved))!;
  unallocated = northshire.find((w) => w.roles.includes('csc.practitioner') && !w.allocatedChildren.includes(moved))!;
}, 180_000);

afterAll(async () => {
  await browser?.close();
});

/** Signs in through the identity provider's page; `forAxe` lets the test inject axe-core past the portal's CSP. */
async function signIn(username: string, options: { forAxe?: boolean; landing?: string } = {}): Promise<Page> {
  const page = await (await browser.newContext({ bypassCSP: options.forAxe ?? false })).newPage();
  await page.goto(portalUrl);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill('sandbox');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: options.landing ?? 'Find a child', level: 1 }).waitFor();
  return page;
}

/** Asks for the single view, retrying while a source is named unavailable (a service's first request after the sandbox starts can be slow). */
async function view(page: Page, nhsNumber: string, purpose: string, options: { retryUnavailable?: boolean } = {}): Promise<void> {
  await page.getByLabel('Why are you looking?').selectOption(purpose);
  await page.getByLabel('NHS number', { exact: true }).fill(nhsNumber);
  await page.getByRole('button', { name: 'Show the single view' }).click();
  await page.getByRole('heading', { name: 'Shared by other local authorities' }).waitFor();
  for (let tries = 0; options.retryUnavailable !== false && tries < 3 && (await page.getByText(/is unavailable: what it holds is not shown/).count()) > 0; tries++) {
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('status').filter({ hasText: 'Asking every source' }).waitFor({ state: 'detached' }).catch(() => {});
    await page.waitForTimeout(500);
  }
}

async function seriousAccessibilityViolations(page: Page): Promise<{ id: string; impact: string }[]> {
  const axe = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
  await page.addScriptTag({ content: axe });
  const violations = (await page.evaluate(async () => {
    const result = await (window as unknown as { axe: { run(context: unknown, options: unknown): Promise<{ violations: { id: string; impact: string }[] }> } }).axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21aa', 'wcag22aa'] } });
    return result.violations.map((v) => ({ id: v.id, impact: v.impact }));
  })) as { id: string; impact: string }[];
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

const cliToken = (username: string) => run(['token', '--la', 'northshire', '--user', username], env).stdout.trim();

async function routerQuery(token: string, query: string, variables: Record<string, unknown> = {}): Promise<{ status: number; body: { data?: any; errors?: any[] } }> {
  const response = await fetch(routerUrl, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ query, variables }) });
  return { status: response.status, body: (await response.json()) as { data?: any; errors?: any[] } };
}

describe('the portal in a browser', () => {
  it('signs an allocated practitioner in and shows the single view with the other LA’s shared summary', async () => {
    const page = await signIn(allocated.username, { forAxe: true });
    await expect.poll(() => page.locator('#purpose-basis').textContent()).toMatch(/only see what this purpose allows/);
    await page.getByLabel('Why are you looking?').selectOption('CHILD_PROTECTION_ENQUIRY');
    expect(await page.locator('#purpose-basis').textContent()).toMatch(/section 47/);
    await view(page, moved, 'CHILD_PROTECTION_ENQUIRY');
    const shared = page.locator('ul.shared li');
    await expect.poll(() => shared.count()).toBe(1);
    await expect.poll(() => shared.first().textContent()).not.toMatch(/not available now/);
    expect(await shared.first().textContent()).toMatch(/^Southshire .*open case: (yes|no); child protection plan: (yes|no)/);
    expect(await page.getByRole('list', { name: 'Summary' }).textContent()).toMatch(/Open case: yes/);
    expect(await page.locator('section.single-view table').count()).toBe(1);
    expect(await page.title()).toBe('Find a child – MAIS single view');
    expect(await seriousAccessibilityViolations(page)).toEqual([]);
  });

  it('can be used from the keyboard alone: the skip link first, then the purpose, the NHS number and the single view', async () => {
    const page = await signIn(allocated.username);
    const focused = () => page.evaluate(() => document.activeElement?.id || document.activeElement?.textContent || '');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('Skip to main content');
    await page.keyboard.press('Enter');
    expect(await focused()).toBe('main');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('purpose');
    await page.keyboard.press('ArrowDown');
    expect(await page.locator('#purpose').inputValue()).toBe('CHILD_PROTECTION_ENQUIRY');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('break-glass');
    await page.keyboard.press('Tab');
    expect(await focused()).toBe('nhs-number');
    await page.keyboard.type(moved);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Shared by other local authorities' }).waitFor();
    expect(await page.getByRole('list', { name: 'Summary' }).count()).toBe(1);
  });

  it('gives an unallocated practitioner the summary only, saying why the rest is withheld', async () => {
    const page = await signIn(unallocated.username);
    await view(page, moved, 'CHILD_PROTECTION_ENQUIRY');
    const section = page.locator('section.single-view');
    await expect.poll(() => section.getByText('Withheld: you are not allocated to this child (summary only)').count()).toBeGreaterThan(0);
    expect(await page.locator('ul.shared li').count()).toBe(0);
    expect(await section.locator('table').count()).toBe(0);
  });

  it('finds an unmatched record by name and date of birth, asks MATCH, and links a potential match only once the caseworker confirms it', async () => {
    // A record of northshire's without an NHS number that MATCH places in the POTENTIAL_MATCH band on its own details (only those can be linked).
    const token = cliToken(allocated.username);
    const MATCH = 'query ($i: DemographicsInput!) { matchChild(input: $i, purpose: CHILD_IN_NEED_ASSESSMENT) { status score nhsNumber explanation } }';
    const FIND = 'query ($i: ChildSearchInput!) { findChildren(input: $i, purpose: CHILD_IN_NEED_ASSESSMENT) { personId postcode } }';
    let chosen: { record: UnmatchedRecord; withPostcode: boolean; nhsNumber: string; explanation: string } | undefined;
    for (const record of unmatchedRecords(join(dataDir, 'population'), 'northshire', 1000)) {
      if (chosen || !record.givenName || !record.familyName || !record.dateOfBirth) continue;
      // The record's details as the portal shows them (its latest address's postcode), which MATCH is asked with.
      const hits = (await routerQuery(token, FIND, { i: { familyName: record.familyName, dateOfBirth: record.dateOfBirth } })).body.data?.findChildren as { personId: string; postcode: string | null }[] | undefined;
      const postcode = hits?.find((h) => h.personId === record.personId)?.postcode ?? null;
      const input = { givenName: record.givenName, familyName: record.familyName, dateOfBirth: record.dateOfBirth, ...(postcode ? { postcode } : {}) };
      const answer = (await routerQuery(token, MATCH, { i: input })).body.data?.matchChild;
      if (answer?.status === 'POTENTIAL_MATCH') chosen = { record, withPostcode: Boolean(postcode), nhsNumber: answer.nhsNumber, explanation: answer.explanation };
    }
    expect(chosen, 'the sandbox population (seed 11) has a record MATCH calls a potential match').toBeDefined();
    const { record, withPostcode, nhsNumber, explanation } = chosen!;
    const name = `${record.givenName} ${record.familyName}`;

    const page = await signIn(allocated.username);
    await page.getByLabel('Why are you looking?').selectOption('CHILD_IN_NEED_ASSESSMENT');
    await page.getByLabel('Family name').fill(record.familyName!);
    const [year, month, day] = record.dateOfBirth!.split('-');
    const search = page.getByRole('form', { name: 'By name, date of birth and postcode' });
    await search.getByLabel('Day').fill(String(Number(day)));
    await search.getByLabel('Month').fill(String(Number(month)));
    await search.getByLabel('Year').fill(year!);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    const row = page.getByRole('row').filter({ hasText: name });
    await row.waitFor();
    expect(await row.textContent()).toContain('Not matched');
    await page.getByRole('button', { name: `Match ${name} now` }).click();
    const panel = page.getByRole('region', { name: `Match ${name} to an NHS number` });
    expect(await panel.getByLabel('Given name').inputValue()).toBe(record.givenName);
    await panel.getByRole('button', { name: 'Ask MATCH' }).click();
    const result = panel.getByRole('definition').first();
    await result.waitFor();
    expect(await result.textContent()).toMatch(/^POTENTIAL MATCH Potential match: check it is this child/);
    // Why it waits for a person, the candidate named as a candidate, and which details agreed.
    const summary = await panel.getByRole('definition').allTextContents();
    expect(summary).toContain(explanation);
    expect(await panel.getByRole('term').allTextContents()).toEqual(expect.arrayContaining(['Why', 'Candidate’s NHS number', 'Agreed']));
    expect(summary).toContain(nhsNumber);
    expect(summary.join(' ')).toMatch(/Family name: (the same|an earlier name|one letter different|sounds the same)/);
    expect(await panel.getByRole('table', { name: 'Candidates PDS returned' }).textContent()).toContain(nhsNumber);

    await panel.getByRole('button', { name: `Link NHS number ${nhsNumber} to this record` }).click();
    await expect.poll(() => panel.getByRole('alert').textContent()).toMatch(/Confirm that this is the same child/);
    expect(await panel.getByText('Linked.').count()).toBe(0);
    await panel.getByLabel('I have checked the details and this is the same child').check();
    await panel.getByRole('button', { name: `Link NHS number ${nhsNumber} to this record` }).click();
    await panel.getByText(`This record now has NHS number ${nhsNumber}.`).waitFor();

    // Linked in the LA's records: the search now shows the NHS number, and the single view opens.
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await expect.poll(() => page.getByRole('row').filter({ hasText: name }).textContent()).toContain(nhsNumber);
    await page.getByRole('button', { name: `View ${name}` }).click();
    await page.getByRole('heading', { name: 'Shared by other local authorities' }).waitFor();
    expect(await page.locator('section.single-view dl.summary').textContent()).toContain(nhsNumber);

    // The match and the search that found the linked child are in the child's audit trail, with the details each was asked on.
    const trail = (await routerQuery(cliToken('ig.officer'), `query ($n: NhsNumber!) { auditTrail(nhsNumber: $n) { caseworker action searchedOn } }`, { n: nhsNumber })).body.data?.auditTrail;
    expect(trail).toContainEqual({ caseworker: allocated.username, action: 'MATCH', searchedOn: ['dateOfBirth', 'familyName', 'givenName', ...(withPostcode ? ['postcode'] : [])] });
    expect(trail).toContainEqual({ caseworker: allocated.username, action: 'SEARCH', searchedOn: ['dateOfBirth', 'familyName'] });
    // The link was made on MATCH's receipt, passed on by the portal unchanged: its band and score are in the audit.
    const links = (await routerQuery(cliToken('ig.officer'), `query ($n: NhsNumber!) { auditTrail(nhsNumber: $n) { caseworker action outcome receipt { band score digest } } }`, { n: nhsNumber })).body.data?.auditTrail.filter((a: { action: string }) => a.action === 'LINK');
    expect(links).toEqual([{ caseworker: allocated.username, action: 'LINK', outcome: 'OK', receipt: { band: 'POTENTIAL_MATCH', score: expect.any(Number), digest: expect.stringMatching(/^[\w-]{43}$/) } }]);
  });

  it('lets a practitioner break glass with a reason, and the IG officer finds it in the audit trail and the break-glass report', async () => {
    const reason = 'Police report overnight: duty worker needs the plan now';
    const page = await signIn(unallocated.username);
    await page.getByLabel('Break glass: I need the full record of a child I am not allocated to').check();
    expect(await page.getByText('Breaking glass is recorded and reviewed by your information governance officer.').count()).toBe(1);
    await page.getByLabel('Why are you looking?').selectOption('CHILD_PROTECTION_ENQUIRY');
    await page.getByLabel('NHS number', { exact: true }).fill(moved);
    await page.getByRole('button', { name: 'Show the single view' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/kind of emergency[\s\S]*reason for breaking glass in at least 20 letters/);
    // Letters no one can see do not make a reason.
    await page.getByLabel('Kind of emergency').selectOption('IMMEDIATE_RISK_OF_HARM');
    await page.getByLabel('Reason').fill('\u200B'.repeat(24));
    await page.getByRole('button', { name: 'Show the single view' }).click();
    await expect.poll(() => page.getByRole('alert').textContent()).toMatch(/reason for breaking glass in at least 20 letters/);
    await page.getByLabel('Reason').fill(reason);
    await view(page, moved, 'CHILD_PROTECTION_ENQUIRY');
    // The full view: the timeline and the other LA's summary, which the summary view withholds.
    expect(await page.locator('section.single-view table').count()).toBe(1);
    await expect.poll(() => page.locator('ul.shared li').count()).toBe(1);

    const officer = await signIn('ig.officer', { landing: 'Audit', forAxe: true });
    expect(await officer.getByRole('button', { name: 'Show the single view' }).count()).toBe(0);
    await officer.getByLabel('NHS number', { exact: true }).fill(moved);
    await officer.getByRole('button', { name: 'Show the audit trail' }).click();
    const trail = officer.getByRole('table', { name: 'Who looked at this child’s records, oldest first' });
    const glass = trail.getByRole('row').filter({ hasText: unallocated.username }).filter({ hasText: 'Break glass' });
    await glass.first().waitFor();
    expect(await glass.first().textContent()).toContain(reason);
    expect(await trail.getByRole('row').filter({ hasText: allocated.username }).count()).toBeGreaterThan(0);

    await officer.getByRole('button', { name: 'Show break-glass accesses' }).click();
    const report = officer.getByRole('table', { name: /^Immediate risk of harm: \d+ access(es)?, oldest first$/ });
    await report.waitFor();
    const entries = report.getByRole('row').filter({ hasText: reason });
    expect(await entries.count()).toBe(1);
    expect(await entries.first().textContent()).toContain(moved);
    expect(await seriousAccessibilityViolations(officer)).toEqual([]);
  });

  it('shows the IG officer, on opening the audit, a caseworker whose searches reached the threshold, without what they searched for', async () => {
    const northshire = demo.las.find((l) => l.code === 'northshire')!.caseworkers;
    const searcher = northshire.filter((w) => w.roles.includes('csc.practitioner') && w !== allocated && w !== unallocated).at(-1)!;
    const token = cliToken(searcher.username);
    // The shared sandbox's threshold is 12 searches an hour (tests/helpers/shared-sandbox.ts).
    for (let i = 1; i <= 12; i++) {
      const reply = await routerQuery(token, `query ($i: ChildSearchInput!) { findChildren(input: $i, purpose: CHILD_IN_NEED_ASSESSMENT) { personId } }`, { i: { familyName: 'Quillfeather', dateOfBirth: `2014-02-${String(i).padStart(2, '0')}` } });
      expect(reply.body.errors).toBeUndefined();
    }
    const officer = await signIn('ig.officer', { landing: 'Audit', forAxe: true });
    const alerts = officer.getByRole('table', { name: 'Caseworkers who searched more than the threshold, newest first' });
    await alerts.waitFor();
    const row = alerts.getByRole('row').filter({ hasText: searcher.username });
    expect(await row.count()).toBe(1);
    expect(await row.first().textContent()).toMatch(/\b(1[2-9]|[2-9]\d|\d{3,}) \(threshold 12\)/);
    expect(await officer.locator('main').textContent()).not.toContain('Quillfeather');
    expect(await seriousAccessibilityViolations(officer)).toEqual([]);
  });

  it('names a stopped source as unavailable while the rest of the single view shows, and recovers on retry', async () => {
    const state = JSON.parse(readFileSync(join(dataDir, 'sandbox.json'), 'utf8')) as { services: { name: string; pid: number }[] };
    const education = state.services.find((s) => s.name === 'northshire education subgraph')!;
    const page = await signIn(allocated.username);
    process.kill(education.pid, 'SIGSTOP');
    try {
      await view(page, moved, 'CHILD_PROTECTION_ENQUIRY', { retryUnavailable: false });
      await page.getByText('Education (this LA) is unavailable: what it holds is not shown.').waitFor();
      expect(await page.getByText('Social care (this LA) is unavailable').count()).toBe(0);
      expect(await page.getByRole('list', { name: 'Summary' }).textContent()).toMatch(/Open case: yes/);
      expect(await page.locator('section.single-view table').count()).toBe(1);
    } finally {
      process.kill(education.pid, 'SIGCONT');
    }
    await expect
      .poll(
        async () => {
          const retry = page.getByRole('button', { name: 'Try again' });
          if ((await retry.count()) > 0) await retry.click();
          await page.getByRole('status').filter({ hasText: 'Asking every source' }).waitFor({ state: 'detached' });
          return page.getByText(/is unavailable: what it holds is not shown/).count();
        },
        { timeout: 30_000, interval: 1000 },
      )
      .toBe(0);
  });

  it('works at 320 px wide: the search, the single view and the audit need no sideways scrolling', async () => {
    const page = await signIn(allocated.username);
    await page.setViewportSize({ width: 320, height: 800 });
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    expect(await overflow()).toBeLessThanOrEqual(0);
    await view(page, moved, 'CHILD_PROTECTION_ENQUIRY');
    expect(await overflow()).toBeLessThanOrEqual(0);
    const officer = await signIn('ig.officer', { landing: 'Audit' });
    await officer.setViewportSize({ width: 320, height: 800 });
    await officer.getByLabel('NHS number', { exact: true }).fill(moved);
    await officer.getByRole('button', { name: 'Show the audit trail' }).click();
    await officer.getByRole('table').first().waitFor();
    expect(await officer.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth)).toBeLessThanOrEqual(0);
  });

  it('sends only its trusted documents: the portal’s own token runs nothing else, which a CLI token still may', async () => {
    const page = await (await browser.newContext()).newPage();
    const tokenResponse = page.waitForResponse((r) => r.url().endsWith('/token') && r.request().method() === 'POST');
    const operations: string[] = [];
    page.on('request', (r) => void (r.url() === routerUrl && operations.push(r.postData() ?? '')));
    await page.goto(portalUrl);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Username').fill(allocated.username);
    await page.getByLabel('Password').fill('sandbox');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const portalToken = ((await (await tokenResponse).json()) as { access_token: string }).access_token;
    await page.getByRole('heading', { name: 'Find a child', level: 1 }).waitFor();
    await view(page, moved, 'EARLY_HELP');
    // The portal sends an id, never the text of an operation.
    expect(operations.length).toBeGreaterThan(0);
    for (const body of operations) expect(JSON.parse(body)).toEqual(expect.objectContaining({ extensions: { persistedQuery: { version: 1, sha256Hash: expect.stringMatching(/^[0-9a-f]{64}$/) } } }));
    expect(operations.every((body) => !('query' in JSON.parse(body)))).toBe(true);

    const other = `query ($n: NhsNumber!) { child(nhsNumber: $n, purpose: EARLY_HELP) { nhsNumber } }`;
    const refused = await routerQuery(portalToken, other, { n: moved });
    expect(refused.status).toBe(403);
    expect(refused.body.errors?.[0]).toMatchObject({ message: 'Only the portal’s registered operations run at this router', extensions: { code: 'FORBIDDEN' } });
    const cli = await routerQuery(cliToken(allocated.username), other, { n: moved });
    expect(cli.body.data?.child?.nhsNumber).toBe(moved);
  });

  it('signs out at the identity provider too: signing in again asks for the password', async () => {
    const page = await signIn(allocated.username);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign out' }).waitFor();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in', level: 1 }).waitFor();
    expect(new URL(page.url()).pathname).toBe('/portal/');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByLabel('Password').waitFor();
    expect(await page.getByLabel('Username').inputValue()).toBe('');
  });
});
