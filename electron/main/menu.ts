import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { MenuActions } from './actions';

export function installMenu(actions: MenuActions): void {
  const template: MenuItemConstructorOptions[] = [
    // macOS shows the first menu under the app's name, so File needs one before it there.
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' } as const] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Project…', accelerator: 'CmdOrCtrl+O', click: actions.openProject },
        {
          // Windows and Linux dialogs pick files or a folder, never either, so there are two.
          label: 'New Project from Import',
          submenu: [
            { label: 'Parquet or Manifest Files…', click: actions.newProjectFromFiles },
            { label: 'Folder…', click: actions.newProjectFromFolder },
          ],
        },
        { label: 'Export…', click: actions.exportParquet },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
    {
      role: 'help',
      submenu: [{ label: 'Keyboard Shortcuts', click: actions.showShortcuts }],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
