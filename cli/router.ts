// `mais router`: runs the LA router in the foreground (la-router/main.ts), passing its options on.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { routerNodeFlags } from '../la-router/config.ts';

export function routerCommand(): Command {
  return new Command('router')
    .description('run the LA router: --config FILE, or --supergraph FILE --port N --insecure-dev to serve any supergraph as stock @apollo/gateway does')
    .option('--config <file>', 'the router configuration (JSON)')
    .option('--supergraph <file>', 'a Federation 2 supergraph to serve')
    .option('--host <host>', 'address to listen on')
    .option('--port <n>', 'port to listen on')
    .option('--insecure-dev', 'no authentication or authorization: synthetic data only')
    .action(async (options: { config?: string; supergraph?: string; host?: string; port?: string; insecureDev?: boolean }) => {
      const args = [
        ...(options.config ? ['--config', options.config] : []),
        ...(options.supergraph ? ['--supergraph', options.supergraph] : []),
        ...(options.host ? ['--host', options.host] : []),
        ...(options.port ? ['--port', options.port] : []),
        ...(options.insecureDev ? ['--insecure-dev'] : []),
      ];
      const child = spawn(process.execPath, ['--import', 'tsx', ...routerNodeFlags(), fileURLToPath(new URL('../la-router/main.ts', import.meta.url)), ...args], { stdio: ['ignore', 'inherit', 'inherit'] });
      for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal));
      const code = await new Promise<number | null>((resolve) => child.once('exit', (exitCode) => resolve(exitCode)));
      process.exitCode = code ?? 1;
    });
}
