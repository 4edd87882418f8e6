// What a running sandbox tells other processes (the CLI): its services and where they are.
import { existsSync, readFileSync } from 'node:fs';
import { isAlive } from '../lib/process.ts';
import { sandboxPaths, type SandboxConfig } from './config.ts';

export interface SandboxState {
  pid: number;
  startedAt: string;
  services: { name: string; url: string; pid: number }[];
}

/** The running sandbox for this configuration, or undefined when none is running. */
export function runningSandbox(config: SandboxConfig): SandboxState | undefined {
  const path = sandboxPaths(config).state;
  if (!existsSync(path)) return undefined;
  try {
    const state = JSON.parse(readFileSync(path, 'utf8')) as SandboxState;
    return isAlive(state.pid) ? state : undefined;
  } catch {
    return undefined;
  }
}
