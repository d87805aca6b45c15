import { Menu, type MenuItemConstructorOptions } from 'electron';

export function installMenu(actions: { openProject: () => void }): void {
  const template: MenuItemConstructorOptions[] = [
    // macOS shows the first menu under the app's name, so File needs one before it there.
    ...(process.platform === 'darwin' ? [{ role: 'appMenu' } as const] : []),
    {
      label: 'File',
      submenu: [
        { label: 'Open Project…', accelerator: 'CmdOrCtrl+O', click: actions.openProject },
        { type: 'separator' },
        { role: 'quit' },
      ],
    },
  ];
  Menu.setApplicationMenu(Menu.buildFromTemplate(template));
}
