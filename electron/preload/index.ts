import { contextBridge, ipcRenderer, type IpcRendererEvent } from 'electron';
import {
  PAGE_METHODS,
  STUDIO_EVENTS,
  type PageApi,
  type PageMethod,
  type StudioEventName,
  type StudioEvents,
  type StudioMethods,
} from '../../shared/api';
import { eventChannel, imageUrl, methodChannel, type IpcReply } from '../main/channels';

/**
 * A failure rejects with the plain `{ code, message }`: the context bridge keeps only the message
 * of an Error, while a plain object crosses whole, so the page can rebuild the StudioError
 * (renderer/src/studio.ts does).
 */
function invoker<M extends PageMethod>(method: M): StudioMethods[M] {
  const call = async (args: unknown): Promise<unknown> => {
    const reply = (await ipcRenderer.invoke(methodChannel(method), args)) as IpcReply;
    if (!reply.ok) return Promise.reject(reply.error);
    return reply.value;
  };
  // The reply is what core's handler for this method returned, whose type (StudioHandlers) is the
  // contract's result for the method.
  return call as StudioMethods[M];
}

// The page's methods only: the local-only ones (which name files) have no channel either.
const methods = Object.fromEntries(PAGE_METHODS.map((method) => [method, invoker(method)])) as Pick<
  StudioMethods,
  PageMethod
>;

const api = {
  ...methods,
  on<E extends StudioEventName>(event: E, listener: (payload: StudioEvents[E]) => void) {
    // The page picks the event name, so it must not be able to subscribe to any other channel.
    if (!STUDIO_EVENTS.includes(event)) throw new Error(`unknown event ${String(event)}`);
    const channel = eventChannel(event);
    // The IPC event carries the sender; only the payload may reach the page.
    const forward = (_event: IpcRendererEvent, payload: StudioEvents[E]): void => listener(payload);
    ipcRenderer.on(channel, forward);
    return () => {
      ipcRenderer.removeListener(channel, forward);
    };
  },
  imageUrl,
} satisfies PageApi;

contextBridge.exposeInMainWorld('studio', api);
