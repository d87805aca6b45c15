import {
  PAGE_METHODS,
  STUDIO_EVENTS,
  type PageApi,
  type PageMethod,
  type StudioEventName,
  type StudioEvents,
  type StudioMethods,
} from '../../../shared/api';
import { StudioError } from '../../../shared/errors';

type Reply = { ok: true; value: unknown } | { ok: false; error: unknown };

/**
 * Browser mode's door: the PageApi over `pickstudio serve`. The page was loaded from that server,
 * whose cookie (set on the first load) authenticates every same-origin request below the page's
 * secret path, and only there: so every URL here is relative to the page, `api/...`, never
 * `/api/...`.
 */
async function call(method: PageMethod, args: unknown): Promise<unknown> {
  let response: Response;
  try {
    response = await fetch(`api/call/${method}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(args ?? {}),
    });
  } catch (error) {
    throw new StudioError(
      'unreachable',
      `${method}: cannot reach the Pick Studio server (${error})`,
    );
  }
  const text = await response.text();
  let reply: Reply | undefined;
  try {
    reply = JSON.parse(text) as Reply;
  } catch {
    // Refusals before the API (no token, server stopping) answer in plain text.
  }
  if (reply?.ok === true) return reply.value;
  if (reply?.ok === false) throw StudioError.fromJSON(reply.error);
  // The guard's refusal of a token (in plain text, before the API): another server, or this one
  // restarted, holds the port now, and the page's cookie is not its own.
  if (response.status === 403 && /\btoken\b/.test(text)) {
    throw new StudioError(
      'session_ended',
      `${method}: the Pick Studio server refused this tab (HTTP 403 ${text.trim()})`,
    );
  }
  throw new StudioError('internal', `${method}: HTTP ${response.status} ${text.trim()}`);
}

type Listener = (payload: never) => void;

export function createHttpStudio(): PageApi {
  const methods = Object.fromEntries(
    PAGE_METHODS.map((method) => [method, (args: unknown) => call(method, args)]),
  ) as Pick<StudioMethods, PageMethod>;

  // One stream for every listener, opened with the first and closed with the last.
  const listeners = new Map<StudioEventName, Set<Listener>>();
  let source: EventSource | undefined;
  const deliver = (event: StudioEventName) => (message: MessageEvent<string>) => {
    const payload = JSON.parse(message.data) as never;
    for (const listener of listeners.get(event) ?? []) listener(payload);
  };
  const openSource = (): EventSource => {
    const opened = new EventSource('api/events');
    for (const event of STUDIO_EVENTS) opened.addEventListener(event, deliver(event));
    return opened;
  };

  return {
    ...methods,
    on<E extends StudioEventName>(event: E, listener: (payload: StudioEvents[E]) => void) {
      const set = listeners.get(event) ?? new Set<Listener>();
      listeners.set(event, set);
      set.add(listener);
      source ??= openSource();
      return () => {
        set.delete(listener);
        if ([...listeners.values()].every((s) => s.size === 0)) {
          source?.close();
          source = undefined;
        }
      };
    },
    imageUrl: (uid: string) => `api/images/${encodeURIComponent(uid)}`,
  } satisfies PageApi;
}
