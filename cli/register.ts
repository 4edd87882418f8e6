// `mais register sync`: an LA tells DfE's FIND what it holds. `mais locator rotate-key`: DfE re-keys
// the register. `mais dsa publish`: DfE stores a source's next data sharing agreement.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import type { JWK } from 'jose';
import { DsaError } from '../lib/dsa/policy.ts';
import { publishDsa } from '../gateway/dsa-registry.ts';
import { addPseudonymKey, PseudonymError, Pseudonymiser, readPseudonymKeys } from '../gateway/pseudonym.ts';
import { LocatorClient, LocatorError, RestrictionClient } from '../la-router/register/client.ts';
import { rotatePseudonymKey, RotationError } from '../gateway/pseudonym-rotation.ts';
import { SyncError, syncRegister } from '../la-router/register/sync.ts';
import { dfeUrls, loadSandboxConfig, sandboxPaths } from '../sandbox/config.ts';
import { runningSandbox } from '../sandbox/state.ts';
import { CommandError, log, printResult } from './output.ts';
import { openStore, sandboxTargets } from './stores.ts';

function readJwk(path: string): JWK {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as JWK;
  } catch (error) {
    throw new CommandError(`cannot read the key ${path}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
  }
}

/** FIND and DfE's token endpoint in the running sandbox, reached as organisations reach them: through DfE's gateway. */
function sandboxLocatorUrl(): string | undefined {
  return runningSandbox(loadSandboxConfig()) ? dfeUrls(loadSandboxConfig()).service('locator') : undefined;
}

function sandboxTokenUrl(): string | undefined {
  return runningSandbox(loadSandboxConfig()) ? dfeUrls(loadSandboxConfig()).token : undefined;
}

/** A store given by URL, or the sandbox's. */
function storeTarget(name: string, databaseUrl: string | undefined) {
  if (databaseUrl) return { kind: name === 'central' ? ('central' as const) : ('local' as const), dataDir: '', databaseUrl };
  const [target] = sandboxTargets(name);
  if (!target) throw new CommandError(`no store ${name}`);
  return target;
}

export function registerCommand(): Command {
  const register = new Command('register').description("an LA's holdings in DfE's FIND register");
  register
    .command('sync')
    .description('send FIND what the LA holds now: only what changed since the last sync, and retirements')
    .requiredOption('--la <code>', 'the LA (its organisation code)')
    .option('--locator-url <url>', "FIND's GraphQL URL (default: the running sandbox's)")
    .option('--token-url <url>', "DfE's token endpoint (default: the running sandbox's)")
    .option('--key <file>', "the LA's DfE credential private key, a JWK (default: the sandbox's)")
    .option('--database-url <url>', "the LA's store (default: the sandbox's)")
    .option('--reconfirm-after-days <n>', 're-send holdings not confirmed for this many days', '7')
    .option('--check-restrictions <n>', 'first ask MATCH again whether PDS restricts each child, for at most n children whose answer is missing or over --restriction-age-days old', '0')
    .option('--restriction-age-days <n>', 'how old an answer on restriction may be before it is asked again', '7')
    .option('--match-url <url>', "MATCH's GraphQL URL (default: the running sandbox's, through DfE's gateway)")
    .option('--json', 'print as JSON')
    .action(async (options: { la: string; locatorUrl?: string; tokenUrl?: string; key?: string; databaseUrl?: string; reconfirmAfterDays: string; checkRestrictions: string; restrictionAgeDays: string; matchUrl?: string; json?: boolean }) => {
      const url = options.locatorUrl ?? sandboxLocatorUrl();
      if (!url) throw new CommandError('FIND is not running: start the sandbox (npm start) or give --locator-url');
      const tokenUrl = options.tokenUrl ?? sandboxTokenUrl();
      if (!tokenUrl) throw new CommandError('give --token-url (DfE’s token endpoint)');
      const privateKey = readJwk(options.key ?? sandboxPaths(loadSandboxConfig()).credentialKey(options.la));
      const reconfirmAfterDays = Number(options.reconfirmAfterDays);
      if (!(reconfirmAfterDays >= 0)) throw new CommandError('--reconfirm-after-days must be 0 or more');
      const checks = Number(options.checkRestrictions);
      const olderThanDays = Number(options.restrictionAgeDays);
      if (!(Number.isInteger(checks) && checks >= 0)) throw new CommandError('--check-restrictions must be a whole number, 0 or more');
      if (!(olderThanDays >= 0)) throw new CommandError('--restriction-age-days must be 0 or more');
      const matchUrl = options.matchUrl ?? (runningSandbox(loadSandboxConfig()) ? dfeUrls(loadSandboxConfig()).service('matching') : undefined);
      if (checks > 0 && !matchUrl) throw new CommandError('give --match-url (MATCH, through DfE’s gateway) to check restrictions');
      const store = await openStore(storeTarget(options.la, options.databaseUrl));
      try {
        const client = new LocatorClient({ url, tokenUrl, organisation: options.la, privateKey });
        const restrictions = checks > 0 ? { client: new RestrictionClient({ url: matchUrl!, tokenUrl, organisation: options.la, privateKey }), limit: checks, olderThanDays } : undefined;
        const report = await syncRegister(store.sql, { la: options.la, client, reconfirmAfterDays, ...(restrictions ? { restrictions } : {}), onProgress: (done, total) => total > 0 && log(`sync: ${done}/${total}`) });
        printResult({ la: options.la, ...report }, options.json ?? false, () =>
          `${options.la}: ${report.holdings} holdings; ${report.registered} registered, ${report.retired} retired, ${report.unchanged} unchanged${report.skipped ? `, ${report.skipped} kept back (invalid NHS number)` : ''} in ${report.calls} calls${report.restrictionsChecked ? `; ${report.restrictionsChecked} restrictions checked with MATCH` : ''}`,
        );
      } catch (error) {
        if (error instanceof LocatorError || error instanceof SyncError) throw new CommandError(error.message);
        throw error;
      } finally {
        await store.close();
      }
    });
  return register;
}

export function locatorCommand(): Command {
  const locator = new Command('locator').description("DfE's FIND register");
  locator
    .command('rotate-key')
    .description('re-key the register under a new pseudonym key version, online (adds the key to the keys file when missing)')
    .option('--keys <file>', "DfE's pseudonym keys file (default: the sandbox's)")
    .option('--database-url <url>', "DfE's central store (default: the sandbox's)")
    .option('--settle-ms <ms>', 'how long replicas need to see a key change (more than 5 s)', '6000')
    .option('--json', 'print as JSON')
    .action(async (options: { keys?: string; databaseUrl?: string; settleMs: string; json?: boolean }) => {
      const keysFile = options.keys ?? sandboxPaths(loadSandboxConfig()).pseudonymKeys;
      const store = await openStore(storeTarget('central', options.databaseUrl));
      try {
        const [current] = await store.sql.withSession((db) => db.query<{ version: number }>(`SELECT version FROM pseudonym_key WHERE state = 'CURRENT'`));
        if (!current) throw new CommandError('the register has no current key version yet (start FIND once first)');
        const keys = readPseudonymKeys(keysFile);
        if (!keys.some((k) => k.version === current.version + 1)) {
          addPseudonymKey(keysFile);
          log(`added pseudonym key version ${current.version + 1} to ${keysFile}: give it to every FIND replica`);
        }
        const pseudonymiser = new Pseudonymiser(readPseudonymKeys(keysFile), current.version + 1);
        const result = await rotatePseudonymKey(store.sql, pseudonymiser, { settleMs: Number(options.settleMs), onProgress: (moved, remaining) => log(`re-keyed ${moved}; ${remaining} to go`) });
        printResult(result, options.json ?? false, () => `register re-keyed from version ${result.from} to ${result.to}: ${result.moved} rows moved (${result.merged} merged)`);
      } catch (error) {
        if (error instanceof RotationError || error instanceof PseudonymError) throw new CommandError(error.message);
        throw error;
      } finally {
        await store.close();
      }
    });
  return locator;
}

export function dsaCommand(): Command {
  const dsa = new Command('dsa').description('data sharing agreements in DfE’s central store');
  dsa
    .command('publish')
    .description("store a source's next agreement version (validated against schema/dsa.schema.json); in force within 5 s")
    .requiredOption('--file <file>', 'the agreement, a JSON document')
    .option('--by <org>', 'who publishes it, for the audit', 'dfe')
    .option('--database-url <url>', "DfE's central store (default: the sandbox's)")
    .option('--json', 'print as JSON')
    .action(async (options: { file: string; by: string; databaseUrl?: string; json?: boolean }) => {
      let document: unknown;
      try {
        document = JSON.parse(readFileSync(options.file, 'utf8'));
      } catch (error) {
        throw new CommandError(`cannot read ${options.file}: ${error instanceof Error ? error.message.split('\n')[0] : String(error)}`);
      }
      const store = await openStore(storeTarget('central', options.databaseUrl));
      try {
        const stored = await store.sql.withSession((db) => publishDsa(db, document, options.by));
        printResult({ source: stored.source, version: stored.version, publishedBy: stored.publishedBy }, options.json ?? false, () => `${stored.source}: agreement version ${stored.version} published`);
      } catch (error) {
        if (error instanceof DsaError) throw new CommandError(`${options.file}: ${error.problems.join('; ')}`);
        throw error;
      } finally {
        await store.close();
      }
    });
  return dsa;
}
