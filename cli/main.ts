// `npm run -s mais -- <command>`: the operator CLI.
import { Command } from 'commander';
import { StoreError } from '../lib/db/sql-store.ts';
import { ConfigError } from '../sandbox/config.ts';
import { dbCommand } from './db.ts';
import { demoCommand } from './demo.ts';
import { auditCommand } from './audit.ts';
import { CommandError } from './output.ts';
import { matchCommand } from './match.ts';
import { populationCommand } from './population.ts';
import { schemaCommand } from './schema.ts';
import { ssdCommand } from './ssd.ts';
import { dsaCommand, locatorCommand, registerCommand } from './register.ts';
import { registryCommand } from './registry.ts';
import { routerCommand } from './router.ts';
import { tokenCommand } from './token.ts';

const program = new Command('mais')
  .description('MAIS single view: operator commands')
  .enablePositionalOptions()
  .addCommand(demoCommand())
  .addCommand(populationCommand())
  .addCommand(dbCommand())
  .addCommand(matchCommand())
  .addCommand(schemaCommand())
  .addCommand(ssdCommand())
  .addCommand(auditCommand())
  .addCommand(registerCommand())
  .addCommand(locatorCommand())
  .addCommand(dsaCommand())
  .addCommand(registryCommand())
  .addCommand(routerCommand())
  .addCommand(tokenCommand());

/** A mistaken command line is answered with the usage of the command it was meant for. */
function showUsageOnError(command: Command): void {
  command.showHelpAfterError(true);
  command.commands.forEach(showUsageOnError);
}
showUsageOnError(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommandError || error instanceof StoreError || error instanceof ConfigError) {
    process.stderr.write(`mais: ${error.message}\n`);
    process.exit(1);
  }
  throw error;
}
