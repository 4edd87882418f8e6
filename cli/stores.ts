// Where the CLI finds the sandbox's stores: through the running sandbox when it is up (it owns
// them), else their data folders.
import { SANDBOX_LAS } from '../sandbox/population/places.ts';
import type { openStore as open } from '../lib/db/store.ts';
import type { StoreKind } from '../prisma/stores.ts';
import { loadSandboxConfig, sandboxPaths } from '../sandbox/config.ts';
import { runningSandbox } from '../sandbox/state.ts';
import { CommandError } from './output.ts';

export interface Target {
  name: string;
  kind: StoreKind;
  dataDir: string;
  databaseUrl?: string;
}

export function sandboxTargets(only: string | undefined): Target[] {
  const config = loadSandboxConfig();
  const paths = sandboxPaths(config);
  const running = runningSandbox(config);
  const names = ['central', ...SANDBOX_LAS.map((la) => la.code)];
  if (only && only !== 'all' && !names.includes(only)) throw new CommandError(`unknown store ${only}; the sandbox has ${names.join(', ')}`);
  return names
    .filter((name) => !only || only === 'all' || only === name)
    .map((name) => {
      const url = running?.services.find((service) => service.name === `${name} store`)?.url;
      return { name, kind: name === 'central' ? 'central' : 'local', dataDir: paths.store(name), ...(url ? { databaseUrl: url } : {}) };
    });
}


/**
 * Opens a store, loading the store module (Prisma's clients, PGlite) only when a command needs one, so
 * that the CLI's other commands start in about half the time.
 */
export const openStore: typeof open = async (options) => (await import('../lib/db/store.ts')).openStore(options);
