import { existsSync } from 'node:fs';
import { Command } from 'commander';
import { importSsd, SSD_TABLES } from '../subgraphs/csc/ssd-import.ts';
import { CommandError, printResult } from './output.ts';
import { openStore, sandboxTargets } from './stores.ts';

const MAX_PROBLEMS_SHOWN = 200;

export function ssdCommand(): Command {
  const ssd = new Command('ssd').description('Standard Safeguarding Dataset extracts');
  ssd
    .command('import')
    .description(`load an SSD extract (one CSV per table: ${SSD_TABLES.join(', ')}) into an LA store; any bad row stops the import and nothing is loaded`)
    .argument('<folder>', 'the folder of SSD CSV files')
    .requiredOption('--la <code>', 'the LA whose store to load')
    .option('--replace', "replace the store's SSD data with the extract (default: add to it)")
    .option('--json', 'print as JSON')
    .action(async (folder: string, options: { la: string; replace?: boolean; json?: boolean }) => {
      if (!existsSync(folder)) throw new CommandError(`no such folder: ${folder}`);
      const [target] = sandboxTargets(options.la);
      if (!target || target.kind !== 'local') throw new CommandError(`${options.la} is not an LA`);
      const store = await openStore({ ...target, kind: 'local' });
      try {
        const result = await importSsd(store.prisma, folder, { replace: options.replace ?? false });
        printResult(result, options.json ?? false, () =>
          result.problems.length > 0
            ? [
                `nothing loaded: ${result.problems.length} problem${result.problems.length === 1 ? '' : 's'}`,
                ...result.problems.slice(0, MAX_PROBLEMS_SHOWN).map((p) => `  ${p.file}:${p.line}: ${p.message}`),
                ...(result.problems.length > MAX_PROBLEMS_SHOWN ? [`  ... and ${result.problems.length - MAX_PROBLEMS_SHOWN} more (--json lists all)`] : []),
              ].join('\n')
            : ['loaded:', ...Object.entries(result.loaded).map(([table, n]) => `  ${table.padEnd(24)} ${n}`)].join('\n'),
        );
        if (result.problems.length > 0) process.exitCode = 1;
      } finally {
        await store.close();
      }
    });
  return ssd;
}
