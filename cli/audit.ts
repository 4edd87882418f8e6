import { Command } from 'commander';
import { CENTRAL_AUDIT, LA_AUDIT, verifyAudit } from '../lib/audit/chain.ts';
import { CommandError, printResult } from './output.ts';
import { openStore, sandboxTargets } from './stores.ts';

export function auditCommand(): Command {
  const audit = new Command('audit').description('the append-only, hash-chained audit logs');
  audit
    .command('verify')
    .description('walk an audit chain and report OK or the first broken link (exit 1 when broken)')
    .option('--central', "DfE's central audit")
    .option('--la <code>', "an LA's audit")
    .option('--json', 'print as JSON')
    .action(async (options: { central?: boolean; la?: string; json?: boolean }) => {
      if (Boolean(options.central) === Boolean(options.la)) throw new CommandError('give --central or --la <code>');
      const [target] = sandboxTargets(options.central ? 'central' : options.la);
      if (!target) throw new CommandError('no such store');
      const store = await openStore(target);
      try {
        const result = await store.sql.withSession((session) => verifyAudit(session, options.central ? CENTRAL_AUDIT : LA_AUDIT));
        printResult({ store: target.name, ...result }, options.json ?? false, () =>
          result.ok ? `${target.name} audit: OK (${result.entries} entries)` : `${target.name} audit: BROKEN at entry ${result.seq}: ${result.problem} (${result.entries} entries before it verify)`,
        );
        if (!result.ok) process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
  return audit;
}
