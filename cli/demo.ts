import { Command } from 'commander';
import { SANDBOX_LAS } from '../sandbox/population/places.ts';
import { loadSandboxConfig } from '../sandbox/config.ts';
import { ensurePopulation, readScenario, unmatchedRecords } from '../sandbox/population/cache.ts';
import { runningSandbox } from '../sandbox/state.ts';
import { log, printResult } from './output.ts';

export function demoCommand(): Command {
  return new Command('demo')
    .description("the sandbox's demo scenario: LAs, caseworkers and example children")
    .option('--json', 'print as JSON')
    .action(async (options: { json?: boolean }) => {
      const config = loadSandboxConfig();
      const population = await ensurePopulation(config, log);
      const scenario = readScenario(population.dir);
      const sandbox = runningSandbox(config);
      const url = (port: number) => `http://${config.host}:${port}`;
      const result = {
        running: sandbox !== undefined,
        services: sandbox?.services.map(({ name, url }) => ({ name, url })) ?? [],
        population: { seed: scenario.seed, children: scenario.children, asOf: scenario.asOf },
        las: scenario.las.map((la) => ({
          code: la.code,
          name: la.name,
          routerUrl: `${url(config.ports.routers[la.code]!)}/graphql`,
          portalUrl: `${url(config.ports.routers[la.code]!)}/portal`,
          caseworkers: la.caseworkers,
          // Records generated without an NHS number: find them by name in the portal, then "Match now".
          unmatchedRecords: unmatchedRecords(population.dir, la.code, 10),
        })),
        exampleChildren: scenario.exampleChildren,
      };
      printResult(result, options.json ?? false, () => {
        const lines = [`MAIS sandbox demo (population seed ${scenario.seed}, ${scenario.children} children, as of ${scenario.asOf})`];
        lines.push(sandbox ? 'sandbox: running' : 'sandbox: not running (start it with `npm start`)');
        for (const la of result.las) {
          const allocated = la.caseworkers.filter((c) => c.allocatedChildren.length > 0);
          lines.push('', `${la.name} (${la.code}) — router ${la.routerUrl}`);
          for (const c of allocated.slice(0, 5)) lines.push(`  ${c.username.padEnd(28)} ${c.roles.join(',').padEnd(30)} allocated: ${c.allocatedChildren.slice(0, 3).join(' ')}`);
          const others = la.caseworkers.filter((c) => !c.roles.includes('csc.practitioner'));
          for (const c of others) lines.push(`  ${c.username.padEnd(28)} ${c.roles.join(',')}`);
          lines.push(`  (${la.caseworkers.length} users in all; --json lists every one)`);
          lines.push(`  portal ${la.portalUrl}; records without an NHS number, to find and match there:`);
          for (const r of la.unmatchedRecords.slice(0, 3)) lines.push(`    ${r.personId}  ${`${r.givenName ?? ''} ${r.familyName ?? ''}`.trim().padEnd(24)} born ${r.dateOfBirth ?? 'not recorded'}  ${r.postcode ?? ''}`);
        }
        lines.push('', 'Example children:');
        for (const child of result.exampleChildren) {
          lines.push(`  ${child.nhsNumber}  ${child.label.padEnd(22)} held by ${child.heldBy.join(', ')}: ${child.description}`);
        }
        const first = result.las[0];
        const caseworker = first?.caseworkers.find((c) => c.allocatedChildren.length > 0);
        if (first && caseworker) {
          lines.push(
            '',
            'Try the single view as an allocated caseworker:',
            `  TOKEN=$(npm run -s mais -- token --la ${first.code} --user ${caseworker.username})`,
            `  curl -s ${first.routerUrl} -H 'content-type: application/json' -H "authorization: Bearer $TOKEN" \\`,
            `    -d '{"query":"{ child(nhsNumber: \\"${caseworker.allocatedChildren[0]}\\", purpose: CHILD_PROTECTION_ENQUIRY) { demographics { givenNames familyName } socialCare { status { openCase } } education { enrolments { schoolName } } locations { custodian { name } recordType } } }"}'`,
          );
        }
        return lines.join('\n');
      });
      if (SANDBOX_LAS.length !== result.las.length) log('warning: the population was generated for a different set of LAs');
    });
}
