import { existsSync, readFileSync } from 'node:fs';
import { Command, Option } from 'commander';
import { checkContract, SOURCE_KINDS, type SourceKind } from '../lib/schema-contract.ts';
import { CommandError, printResult } from './output.ts';

export function schemaCommand(): Command {
  const schema = new Command('schema').description('the source standards in schema/');
  schema
    .command('check')
    .description("check a subgraph's SDL against its source kind's contract, listing each missing or mistyped field")
    .argument('<file>', 'the subgraph SDL (.graphql)')
    .addOption(new Option('--kind <kind>', 'the source kind').choices([...SOURCE_KINDS]).makeOptionMandatory())
    .option('--json', 'print as JSON')
    .action((file: string, options: { kind: SourceKind; json?: boolean }) => {
      if (!existsSync(file)) throw new CommandError(`no such file: ${file}`);
      const problems = checkContract(readFileSync(file, 'utf8'), options.kind);
      printResult({ file, kind: options.kind, ok: problems.length === 0, problems }, options.json ?? false, () =>
        problems.length === 0
          ? `${file} satisfies the ${options.kind} contract`
          : [`${file} does not satisfy the ${options.kind} contract:`, ...problems.map((p) => `  ${p.path}: ${p.problem}`)].join('\n'),
      );
      if (problems.length > 0) process.exitCode = 1;
    });
  return schema;
}
