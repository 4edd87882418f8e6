import { Command, InvalidArgumentError, Option } from 'commander';
import cliProgress from 'cli-progress';
import { DEFAULT_AS_OF, DEFAULT_CHILDREN, generatePopulation, MAX_CHILDREN, validateGenerateOptions } from '../sandbox/population/generate.ts';
import { loadSandboxConfig, sandboxPaths } from '../sandbox/config.ts';
import { log, printResult } from './output.ts';

function wholeNumber(name: string, min: number, max: number) {
  return (value: string): number => {
    if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError(`${name} must be a whole number`);
    const n = Number(value);
    if (n < min || n > max) throw new InvalidArgumentError(`${name} must be from ${min} to ${max}`);
    return n;
  };
}

export function populationCommand(): Command {
  const population = new Command('population').description('synthetic populations for the sandbox, tests and benchmarks');
  const generate = population
    .command('generate')
    .description('generate a deterministic synthetic population: PDS records (FHIR NDJSON), LA records and ground truth')
    .addOption(new Option('--seed <n>', 'random seed: the same seed gives the same population').default(42).argParser(wholeNumber('--seed', 0, Number.MAX_SAFE_INTEGER)))
    .addOption(new Option('--children <n>', 'how many children').default(DEFAULT_CHILDREN).argParser(wholeNumber('--children', 1, MAX_CHILDREN)))
    .option('--out <dir>', 'output folder (default: the sandbox population folder)')
    .option('--as-of <date>', `the day the population is as of, yyyy-mm-dd: ages, open cases and attendance are relative to it (default: ${DEFAULT_AS_OF}, so a seed gives the same population on every day)`)
    .option('--json', 'print the manifest as JSON')
    .action(async (options: { seed: number; children: number; out?: string; asOf?: string; json?: boolean }) => {
      const asOf = options.asOf ?? DEFAULT_AS_OF;
      const problem = validateGenerateOptions({ seed: options.seed, children: options.children, asOf });
      if (problem) generate.error(`error: ${problem}`, { exitCode: 2 });
      const outDir = options.out ?? sandboxPaths(loadSandboxConfig()).population;
      const bar = new cliProgress.SingleBar(
        { stream: process.stderr, format: 'children {bar} {value}/{total} | {rate}/s | ETA {eta_formatted}', etaBuffer: 50, noTTYOutput: true, notTTYSchedule: 5000 },
        cliProgress.Presets.shades_classic,
      );
      const started = Date.now();
      bar.start(options.children, 0, { rate: 0 });
      const manifest = await generatePopulation({
        seed: options.seed,
        children: options.children,
        outDir,
        asOf,
        onProgress: (done) => bar.update(done, { rate: Math.round(done / Math.max(0.001, (Date.now() - started) / 1000)) }),
      });
      bar.stop();
      if (manifest.nhsNumberPrefixes.length > 1) {
        log(`note: more children than the 999 range holds; NHS numbers continue into the ${manifest.nhsNumberPrefixes.slice(1).join(', ')} ranges`);
      }
      printResult({ outDir, ...manifest }, options.json ?? false, () =>
        [
          `population written to ${outDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`,
          `  PDS records:   ${manifest.counts.patients}`,
          ...Object.entries(manifest.counts.las).map(([la, counts]) => `  ${la}: ${counts.ssd_person} CSC persons, ${counts.edu_pupil} pupils, ${counts.la_user} users`),
          `  ground truth:  ${manifest.counts.groundTruth} local records`,
        ].join('\n'),
      );
    });
  return population;
}
