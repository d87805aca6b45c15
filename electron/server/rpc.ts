import type { IncomingMessage, ServerResponse } from 'node:http';
import { StudioError, type ErrorCode } from '../../shared/errors';
import type { Dispatch } from '../core/dispatcher';
import { sendJson } from './responses';

const MAX_BODY_BYTES = 1024 * 1024;

/** The reply's status follows its code, for scripts; the page reads the code from the body. */
const STATUS_BY_CODE: Record<ErrorCode, number> = {
  invalid_argument: 400,
  unknown_method: 404,
  not_found: 404,
  not_allowed: 403,
  bad_input: 422,
  newer_project: 422,
  not_a_project: 422,
  busy: 409,
  read_only: 409,
  disk_full: 507,
  unreachable: 503,
  session_ended: 403,
  cancelled: 409,
  internal: 500,
};

function sendError(
  res: ServerResponse,
  error: StudioError,
  status = STATUS_BY_CODE[error.code],
  headers: Record<string, string> = {},
): void {
  sendJson(res, status, { ok: false, error: error.toJSON() }, headers);
}

const isJson = (contentType: string | undefined): boolean =>
  (contentType ?? '').split(';')[0]!.trim().toLowerCase() === 'application/json';

/**
 * POST /api/call/:method with the arguments as a JSON body: the same envelope as the IPC door,
 * `{ ok: true, value }` or `{ ok: false, error: { code, message } }`.
 */
export async function serveCall(
  req: IncomingMessage,
  res: ServerResponse,
  method: string,
  dispatch: Dispatch,
): Promise<void> {
  if (req.method !== 'POST') {
    sendError(res, new StudioError('invalid_argument', 'use POST'), 405, { Allow: 'POST' });
    return;
  }
  // A form or a no-cors fetch from another site cannot send this type without a preflight, which
  // the Origin check refuses: so this keeps cross-site "simple requests" out.
  if (!isJson(req.headers['content-type'])) {
    sendError(
      res,
      new StudioError('invalid_argument', 'Content-Type must be application/json'),
      415,
    );
    return;
  }
  const length = Number(req.headers['content-length'] ?? NaN);
  if (!Number.isSafeInteger(length)) {
    sendError(res, new StudioError('invalid_argument', 'Content-Length is required'), 411);
    return;
  }
  if (length > MAX_BODY_BYTES) {
    // The unread body must not be parsed as the next request on this connection.
    sendError(res, new StudioError('invalid_argument', 'request body over 1 MB'), 413, {
      Connection: 'close',
    });
    return;
  }
  // Node's parser stops a body at its Content-Length, so this reads at most MAX_BODY_BYTES.
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = Buffer.concat(chunks).toString('utf8');

  let args: unknown;
  try {
    args = body.trim() === '' ? undefined : JSON.parse(body);
  } catch {
    sendError(res, new StudioError('invalid_argument', 'request body is not valid JSON'));
    return;
  }
  try {
    sendJson(res, 200, { ok: true, value: await dispatch(method, args) });
  } catch (error) {
    if (error instanceof StudioError) {
      sendError(res, error);
      return;
    }
    console.error(`pickstudio serve: ${method} failed:`, error);
    sendError(res, new StudioError('internal', String(error)));
  }
}
