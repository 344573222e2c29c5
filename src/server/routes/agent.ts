/**
 * Agent routes (SPEC section 4): the node key travels in the JSON body; the server keeps
 * only its hash. Enrolments (valid auth keys) are limited per client address
 * (`--register-rate`); failed authentications are limited in app.ts (`--auth-fail-rate`).
 */
import type { FastifyInstance } from 'fastify';
import { unknownReportFields } from '../../shared/posture-schemas.ts';
import { commandResultRequest, deregisterRequest, heartbeatRequest, postureReportRequest, registerRequest } from '../../shared/wire.ts';
import { ApiError } from '../errors.ts';
import { clientKey } from '../rate-limit.ts';
import { authenticateMachine, deregisterMachine, heartbeat, recordCommandResult, registerMachine } from '../domain/machines.ts';
import { handleReport } from '../domain/posture-service.ts';
import type { ServerDeps } from '../deps.ts';
import { parseBody } from './validation.ts';

/** `ignored_fields` names at most this many (a body is at most 64 KiB anyway). */
const MAX_IGNORED_FIELDS_LISTED = 50;

export function agentRoutes(app: FastifyInstance, deps: ServerDeps): void {
  const { context, peers, registerLimiter } = deps;

  app.post('/api/register', async (request) =>
    registerMachine(context, parseBody(registerRequest, request.body), () => {
      const wait = registerLimiter.hit(clientKey(request.ip));
      if (wait > 0) throw new ApiError('rate_limited', `too many enrolments from this address (the server's --register-rate per minute); retry in ${wait} s`);
    }),
  );

  app.post('/api/posture-report', async (request) => {
    const body = parseBody(postureReportRequest, request.body);
    const machine = await authenticateMachine(context, body.node_key);
    const { node_key: _key, ...report } = body;
    // SPEC 7.2: a newer agent's fields are ignored and named back, never a 400.
    const ignored = unknownReportFields(request.body as Record<string, unknown>, ['node_key']);
    return handleReport(context, machine, report, ignored.slice(0, MAX_IGNORED_FIELDS_LISTED).map((field) => field.slice(0, 100)));
  });

  app.post('/api/machine-heartbeat', async (request) => {
    const body = parseBody(heartbeatRequest, request.body);
    const machine = await authenticateMachine(context, body.node_key);
    return heartbeat(context, peers, machine, body);
  });

  // SPEC 7.1: the machine of this node key leaves; the key never works again.
  app.post('/api/deregister', async (request) => {
    const body = parseBody(deregisterRequest, request.body);
    return deregisterMachine(context, await authenticateMachine(context, body.node_key));
  });

  app.post('/api/agent-commands/result', async (request) => {
    const body = parseBody(commandResultRequest, request.body);
    const machine = await authenticateMachine(context, body.node_key);
    const updated = await recordCommandResult(context, machine, body);
    return { success: true, data: [updated] };
  });
}
