// `mais token --la CODE --user USERNAME`: a caseworker's access token from that LA's sandbox identity
// provider (sandbox only: it signs in as the caseworker without a password).
import { readFileSync } from 'node:fs';
import { Command } from 'commander';
import { loadSandboxConfig, sandboxPaths } from '../sandbox/config.ts';
import { CLI_CLIENT, SANDBOX_USER_GRANT } from '../sandbox/idp/grant.ts';
import { runningSandbox } from '../sandbox/state.ts';
import { CommandError, printResult } from './output.ts';

export function tokenCommand(): Command {
  return new Command('token')
    .description("a caseworker's access token from an LA's sandbox identity provider (sandbox only)")
    .requiredOption('--la <code>', 'the LA')
    .requiredOption('--user <username>', 'the caseworker (`mais demo` lists them)')
    .option('--json', 'print as JSON')
    .action(async (options: { la: string; user: string; json?: boolean }) => {
      const config = loadSandboxConfig();
      const idp = runningSandbox(config)?.services.find((s) => s.name === `${options.la} identity provider`)?.url;
      if (!idp) throw new CommandError(`no identity provider for ${options.la} is running: start the sandbox (npm start)`);
      const secret = readFileSync(sandboxPaths(config).idpCliSecret(options.la), 'utf8').trim();
      const response = await fetch(`${idp}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: `Basic ${Buffer.from(`${CLI_CLIENT}:${secret}`).toString('base64')}` },
        body: new URLSearchParams({ grant_type: SANDBOX_USER_GRANT, username: options.user }),
      });
      const body = (await response.json()) as { access_token?: string; expires_in?: number; error_description?: string };
      if (!body.access_token) throw new CommandError(`${options.la} identity provider: ${body.error_description ?? `HTTP ${response.status}`}`);
      printResult({ access_token: body.access_token, token_type: 'Bearer', expires_in: body.expires_in }, options.json ?? false, () => body.access_token!);
    });
}
