/**
 * `ztna daemon`: the agent in the foreground for a service manager. Structured logs
 * (pino) on stderr, state persisted atomically after every change so a restart resumes,
 * clean shutdown on SIGTERM/SIGINT (the caller wires the signals to `stop`).
 */
import { hostname as osHostname } from 'node:os';
import { AgentDriver } from '../../agent/driver.ts';
import { createControlClient } from '../../agent/control-client.ts';
import { readEnrollment, readState, writeState } from '../../agent/enrollment.ts';
import { localSocketPath, serveLocalApi } from '../../agent/local-api.ts';
import { collectLocalReport } from '../../agent/local-posture.ts';
import { configDir } from '../../agent/paths.ts';
import { DEFAULT_INTERVALS, initialMachine } from '../../agent/state-machine.ts';
import { ZtnaError } from '../../shared/errors.ts';
import { AGENT_VERSION } from '../../version.ts';

export interface RunningDaemon {
  stop(): Promise<void>;
}

export async function startDaemon(options: { localCheckSeconds?: number }): Promise<RunningDaemon> {
  const dir = configDir();
  const enrollment = await readEnrollment(dir);
  if (!enrollment) throw new ZtnaError('usage', `this device is not enrolled (no enrollment in ${dir}): run \`ztna up --server URL --auth-key KEY\` first`);
  const { default: pino } = await import('pino');
  // Logs go to stderr; the node key and tokens are never among the logged fields.
  const logger = pino({ base: { service: 'ztna-agent', host: osHostname() } }, pino.destination(2));
  // A state file that cannot be read only costs the resume: say so and start fresh.
  const persisted = await readState(dir).catch((error: unknown) => {
    logger.warn({ err: error instanceof Error ? error.message : String(error) }, 'could not read the saved agent state; starting from DISCONNECTED');
    return null;
  });
  const localCheckMs = options.localCheckSeconds !== undefined ? options.localCheckSeconds * 1000 : DEFAULT_INTERVALS.localCheckMs;
  const resumed = persisted?.machine ?? initialMachine(true);
  const machine = { ...resumed, enrolled: true, intervals: { ...resumed.intervals, localCheckMs } };
  const client = await createControlClient(enrollment.server_url);
  const driver = new AgentDriver({
    machine,
    enrollment,
    client,
    collect: () => collectLocalReport(),
    persist: (state) => writeState(dir, { pid: process.pid, updated_at: new Date().toISOString(), machine: state }),
    clock: { now: () => Date.now(), setTimeout: (callback, ms) => setTimeout(callback, ms), clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout) },
    logger,
    agentVersion: AGENT_VERSION,
  });
  const socketPath = localSocketPath(dir);
  let localApi: { close(): Promise<void> };
  try {
    localApi = await serveLocalApi(socketPath, driver, enrollment);
  } catch (error) {
    await client.close();
    throw new ZtnaError('runtime', `cannot listen on ${socketPath} (${(error as Error).message}); is another ztna daemon running for this config directory?`, { cause: error });
  }
  logger.info({ server: enrollment.server_url, machine_id: enrollment.machine_id, resumed_state: machine.state, socket: socketPath }, 'ztna daemon starting');
  driver.start();
  return {
    async stop() {
      logger.info({ state: driver.state.state }, 'ztna daemon stopping');
      await localApi.close();
      await driver.stop();
      await client.close();
      logger.flush();
    },
  };
}
