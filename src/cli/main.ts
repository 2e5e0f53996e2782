#!/usr/bin/env node
/**
 * The `oncekey` command. `oncekey proxy --upstream URL` runs the idempotency gateway; see
 * `oncekey proxy --help`. Exit codes: 0 clean shutdown, 1 runtime failure, 2 bad usage.
 */
import { InvalidOptionError } from '../core/errors/invalid-option.js';
import { UsageError, parseProxyArgs } from './args.js';
import { runProxy } from './proxy.js';
import { MAIN_USAGE, PROXY_USAGE } from './usage.js';

async function main(argv: readonly string[]): Promise<number | undefined> {
  const [command, ...rest] = argv;
  if (command === undefined) return usage('no command given', MAIN_USAGE);
  if (command === '--help' || command === '-h' || command === 'help') {
    process.stdout.write(MAIN_USAGE);
    return 0;
  }
  if (command !== 'proxy') return usage(`unknown command ${JSON.stringify(command)}`, MAIN_USAGE);
  let parsed;
  try {
    parsed = parseProxyArgs(rest, process.env);
  } catch (error) {
    if (error instanceof UsageError) return usage(error.message, PROXY_USAGE);
    throw error;
  }
  if (parsed.help) {
    process.stdout.write(PROXY_USAGE);
    return 0;
  }
  try {
    await runProxy(parsed.config);
  } catch (error) {
    // A bad value only the gateway can judge (e.g. --ttl shorter than --lease) is a usage error too.
    if (error instanceof InvalidOptionError) return usage(error.message, PROXY_USAGE);
    process.stderr.write(`oncekey proxy: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  return undefined; // running: signals decide the exit code
}

function usage(message: string, text: string): number {
  process.stderr.write(`oncekey: ${message}\n\n${text}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== undefined) process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`oncekey: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
