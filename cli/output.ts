// How every command reports: results on stdout (JSON with --json), progress and logs on stderr,
// failures as one line and a non-zero exit.

export const log = (line: string): void => {
  process.stderr.write(`${line}\n`);
};

export function printResult(result: unknown, json: boolean, text: () => string): void {
  process.stdout.write(json ? `${JSON.stringify(result, null, 2)}\n` : `${text()}\n`);
}

/** A failure the operator can act on; its message is printed as it is, without a stack trace. */
export class CommandError extends Error {
  override name = 'CommandError';
}
