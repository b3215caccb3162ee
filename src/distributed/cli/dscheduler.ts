#!/usr/bin/env node
/**
 * dscheduler: starts a scheduler (`dscheduler [--host 127.0.0.1] [--port 8786]`) and prints
 * `Start scheduler at tcp://host:port`. `--port 0` picks a free port (the line shows which).
 * SIGINT / SIGTERM close it and exit 0; bad arguments exit 2.
 */
import { SchedulerServer, DEFAULT_SCHEDULER_PORT } from '../scheduler/server.js';
import { intOption, parse, runProgram, stringOption, UsageError } from './common.js';

const USAGE = `Usage: dscheduler [--host HOST] [--port PORT]

  --host HOST   interface to listen on (default 127.0.0.1)
  --port PORT   port to listen on (default ${DEFAULT_SCHEDULER_PORT}; 0 picks a free port)
  -h, --help    show this help
`;

runProgram('dscheduler', USAGE, async () => {
  const { values, positionals } = parse(
    process.argv.slice(2),
    { host: { type: 'string' }, port: { type: 'string' }, help: { type: 'boolean', short: 'h' } },
    true,
  );
  if (values.help) {
    process.stdout.write(USAGE);
    process.exit(0);
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument '${positionals[0]}'`);
  const host = stringOption(values, 'host') ?? '127.0.0.1';
  const port = intOption(values, 'port', DEFAULT_SCHEDULER_PORT, 0, 65535);
  const scheduler = await SchedulerServer.start({ host, port });
  process.stdout.write(`Start scheduler at ${scheduler.address}\n`);
  return () => scheduler.close();
});
