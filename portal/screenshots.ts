// `npm run screenshots` (with the sandbox running): the portal's main screens as a caseworker meets
// them, saved under docs/screenshots/ for the README. Debian's Chromium through playwright-core.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { chromium } from 'playwright-core';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, 'docs', 'screenshots');
mkdirSync(out, { recursive: true });
const demo = JSON.parse(execFileSync('npm', ['run', '-s', 'mais', '--', 'demo', '--json'], { cwd: root, encoding: 'utf8' })) as {
  exampleChildren: { label: string; nhsNumber: string }[];
  las: { code: string; portalUrl: string; caseworkers: { username: string; allocatedChildren: string[] }[] }[];
};
const moved = demo.exampleChildren.find((c) => c.label === 'held_by_both_las');
const la = demo.las.find((l) => l.code === 'northshire')!;
const worker = la.caseworkers.find((w) => moved && w.allocatedChildren.includes(moved.nhsNumber));
if (!moved || !worker) throw new Error('the sandbox has no child held by both LAs with an allocated worker: start it with the default population');

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--no-sandbox'] });
try {
  const page = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  const shot = (name: string) => page.screenshot({ path: join(out, `${name}.png`), fullPage: true });
  await page.goto(la.portalUrl);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByLabel('Username').fill(worker.username);
  await shot('1-sign-in');
  await page.getByLabel('Password').fill('sandbox');
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Find a child' }).waitFor();
  await page.getByLabel('NHS number').fill(moved.nhsNumber);
  await page.getByLabel('Why are you looking?').selectOption('CHILD_PROTECTION_ENQUIRY');
  await shot('2-find-a-child');
  for (let tries = 0; tries < 3; tries++) {
    await page.getByRole('button', { name: tries === 0 ? 'Show the single view' : 'Try again' }).click();
    await page.getByRole('heading', { name: 'Shared by other local authorities' }).waitFor();
    await page.waitForTimeout(300);
    if ((await page.getByText(/is unavailable/).count()) === 0) break;
  }
  await shot('3-single-view');
  await page.setViewportSize({ width: 320, height: 800 });
  await shot('4-single-view-320px');
  process.stderr.write(`screenshots in ${out}: ${['1-sign-in', '2-find-a-child', '3-single-view', '4-single-view-320px'].join(', ')}\n`);
} finally {
  await browser.close();
}
