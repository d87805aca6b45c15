import type { PageApi } from '../../shared/api';

declare global {
  interface Window {
    /** Put there by the preload (Electron) or by browser mode's client. */
    readonly studio: PageApi;
  }
}
