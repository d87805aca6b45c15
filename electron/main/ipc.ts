import { ipcMain, type BrowserWindow, type IpcMainInvokeEvent } from 'electron';
import { PAGE_METHODS, type StudioEvents, type StudioEventName } from '../../shared/api';
import { StudioError } from '../../shared/errors';
import type { Dispatch } from '../core/dispatcher';
import { eventChannel, methodChannel, type IpcReply } from './channels';

/**
 * Registers exactly the page's methods (no local-only one: the page never names a file), each
 * behind the same sender check: only the main frame of the app's window, showing the app's own
 * page, reaches the core, through the page's dispatch (`Studio.dispatchFromPage`).
 */
export function registerStudioIpc(options: {
  window: BrowserWindow;
  isAppUrl: (url: string) => boolean;
  /** The open project's `dispatchFromPage`. */
  dispatchFromPage: () => Promise<Dispatch>;
}): void {
  const { window, isAppUrl } = options;
  const fromAppFrame = (event: IpcMainInvokeEvent): boolean => {
    const frame = event.senderFrame;
    if (frame === null || window.isDestroyed()) return false;
    if (event.sender.id !== window.webContents.id) return false;
    const main = window.webContents.mainFrame;
    return (
      frame.processId === main.processId &&
      frame.routingId === main.routingId &&
      isAppUrl(frame.url)
    );
  };

  for (const method of PAGE_METHODS) {
    ipcMain.handle(methodChannel(method), async (event, args: unknown): Promise<IpcReply> => {
      if (!fromAppFrame(event)) {
        throw new Error(`${methodChannel(method)}: refused a call from outside the app's window`);
      }
      try {
        const dispatch = await options.dispatchFromPage();
        return { ok: true, value: await dispatch(method, args) };
      } catch (error) {
        if (error instanceof StudioError) return { ok: false, error: error.toJSON() };
        console.error(`${method} failed:`, error);
        return { ok: false, error: { code: 'internal', message: String(error) } };
      }
    });
  }
}

export function sendStudioEvent<E extends StudioEventName>(
  window: BrowserWindow,
  event: E,
  payload: StudioEvents[E],
): void {
  if (!window.isDestroyed()) window.webContents.send(eventChannel(event), payload);
}
