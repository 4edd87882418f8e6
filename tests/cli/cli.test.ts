import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { run } from '../helpers/processes.ts';

describe('mais', () => {
  it('lists its commands with --help', () => {
    const help = run(['--help']);
    expect(help.status).toBe(0);
    for (const command of ['demo', 'population', 'db']) expect(help.stdout).toContain(command);
  });

  it.each([
    [['--children', '0'], /--children must be from 1 to 5000000/],
    [['--children', 'many'], /--children must be a whole number/],
    [['--children', '-5'], /--children/],
    [['--seed', '1.5'], /--seed must be a whole number/],
    [['--as-of', '2026-02-30'], /--as-of must be a date/],
  ])('population generate refuses %j with a usage message', (args, message) => {
    const out = mkdtempSync(join(tmpdir(), 'mais-test-cli-'));
    const result = run(['population', 'generate', '--out', join(out, 'p'), ...args]);
    expect(result.status).not.toBe(0);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toContain('Usage: mais population generate');
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(join(out, 'p'))).toBe(false);
  });

  it('population generate writes a population and prints its manifest', () => {
    const out = join(mkdtempSync(join(tmpdir(), 'mais-test-cli-')), 'p');
    const result = run(['population', 'generate', '--children', '200', '--seed', '9', '--as-of', '2026-06-01', '--out', out, '--json']);
    expect(result.status).toBe(0);
    const manifest = JSON.parse(result.stdout);
    expect(manifest).toMatchObject({ outDir: out, seed: 9, children: 200, asOf: '2026-06-01', nhsNumberPrefixes: [999] });
    expect(existsSync(join(out, 'pds', 'patients.ndjson'))).toBe(true);
    expect(result.stderr).toMatch(/children/);
  });

  it('db migrate asks which schema a bare database URL holds', () => {
    const result = run(['db', 'migrate', '--database-url', 'postgresql://u:secret@127.0.0.1:1/x']);
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('mais: --database-url needs --kind central or --kind local');
  });

  it('db migrate reports an unreachable database in one line, password hidden', () => {
    const result = run(['db', 'migrate', '--database-url', 'postgresql://u:secret@127.0.0.1:1/x', '--kind', 'central']);
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe('mais: cannot open the central store at postgresql://u:***@127.0.0.1:1/x: connection refused (is PostgreSQL running there?)');
  });
});
