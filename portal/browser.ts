// The Chromium that the browser tests and `npm run screenshots` drive through playwright-core: the
// one named by MAIS_CHROMIUM, else Debian's (/usr/bin/chromium) where it is installed, else the one
// the @sparticuz/chromium package brings with `npm install` (unpacked into the temporary folder on
// first use). No browser is ever downloaded at run time.
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const SYSTEM_CHROMIUM = '/usr/bin/chromium';

/** Flags for a headless Chromium on a machine with no network but loopback (none of its background calls). */
const QUIET = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export async function launchChromium(env: NodeJS.ProcessEnv = process.env): Promise<{ browser: Browser; executablePath: string }> {
  const named = env.MAIS_CHROMIUM ?? (existsSync(SYSTEM_CHROMIUM) ? SYSTEM_CHROMIUM : undefined);
  if (named) {
    if (!existsSync(named)) throw new Error(`MAIS_CHROMIUM names ${named}, which does not exist`);
    return { browser: await chromium.launch({ executablePath: named, headless: true, args: QUIET }), executablePath: named };
  }
  let bundled: { executablePath(): Promise<string>; args: string[] };
  try {
    bundled = (await import('@sparticuz/chromium')).default;
  } catch {
    throw new Error('no Chromium: install Debian\'s (apt-get install chromium) or run npm install, which brings @sparticuz/chromium');
  }
  const executablePath = await bundled.executablePath();
  return { browser: await chromium.launch({ executablePath, headless: true, args: [...bundled.args, ...QUIET] }), executablePath };
}
