import { Command, Option } from 'commander';
import { redactUrl } from '../lib/db/sql-store.ts';
import { resolveRolledBack, type MigrationReport } from '../lib/db/migrations.ts';
import type { StoreKind } from '../prisma/stores.ts';
import { CommandError, printResult } from './output.ts';
import { openStore, sandboxTargets, type Target } from './stores.ts';

export function dbCommand(): Command {
  const db = new Command('db').description('the stores: migrations');
  db.command('migrate')
    .description("apply pending migrations to the sandbox's stores, or to a PostgreSQL given by --database-url")
    .option('--store <name>', 'one sandbox store (central, northshire, southshire) or all', 'all')
    .option('--database-url <url>', 'a PostgreSQL database to migrate instead (also DATABASE_URL)')
    .addOption(new Option('--kind <kind>', 'with --database-url: which schema it holds').choices(['central', 'local']))
    .option('--resolve-rolled-back <migration>', 'mark a failed migration as rolled back, so the next run retries it')
    .option('--json', 'print as JSON')
    .action(async (options: { store: string; databaseUrl?: string; kind?: StoreKind; resolveRolledBack?: string; json?: boolean }) => {
      const databaseUrl = options.databaseUrl ?? process.env.DATABASE_URL;
      let targets: Target[];
      if (databaseUrl) {
        if (!options.kind) throw new CommandError('--database-url needs --kind central or --kind local');
        targets = [{ name: redactUrl(databaseUrl), kind: options.kind, dataDir: '', databaseUrl }];
      } else {
        targets = sandboxTargets(options.store);
      }
      const results: ({ store: string; location: string } & MigrationReport)[] = [];
      for (const target of targets) {
        if (options.resolveRolledBack) {
          const store = await openStore({ ...target, migrate: false });
          const resolved = await store.sql.withSession((session) => resolveRolledBack(session, options.resolveRolledBack!));
          await store.close();
          if (!resolved) throw new CommandError(`${target.name}: no failed migration named ${options.resolveRolledBack}`);
        }
        const store = await openStore(target);
        results.push({ store: target.name, location: store.location, ...store.migrations });
        await store.close();
      }
      printResult(results, options.json ?? false, () =>
        results
          .map((r) =>
            [
              `${r.store} (${r.location}): ${r.applied.length === 0 ? 'up to date' : `applied ${r.applied.join(', ')}`}`,
              ...r.modified.map((name) => `  warning: ${name} has changed since it was applied`),
              ...r.unknown.map((name) => `  note: ${name} is applied but not in this release's migrations`),
            ].join('\n'),
          )
          .join('\n'),
      );
    });
  return db;
}
