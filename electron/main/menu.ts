import { Menu, type MenuItemConstructorOptions } from 'electron';
import type { Role } from '../../shared/api';
import type { MenuActions } from './actions';

/** Items that call a lead-only method (shared/api.ts LEAD_ONLY_METHODS): off in a package. */
const LEAD_ITEMS = ['export', 'make-package', 'merge-packages'] as const;

/** The role of the project on screen; kept so that the menu built later follows it too. */
let shownRole: Role = 'lead';

export function installMenu(actions: MenuActions): void {
  const lead = shownRole === 'lead';
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
        { id: 'export', label: 'Export…', enabled: lead, click: actions.exportParquet },
        { type: 'separator' },
        {
          id: 'make-package',
          label: 'Make Annotator Package…',
          enabled: lead,
          click: actions.makePackage,
        },
        {
          id: 'merge-packages',
          label: 'Merge Returned Packages…',
          enabled: lead,
          click: actions.mergePackages,
        },
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

/**
 * Follows the project on screen: in an annotator's package the lead's items are greyed out (the
 * dispatcher would refuse their calls there anyway).
 */
export function showRoleInMenu(role: Role): void {
  shownRole = role;
  const menu = Menu.getApplicationMenu();
  for (const id of LEAD_ITEMS) {
    const item = menu?.getMenuItemById(id);
    if (item) item.enabled = role === 'lead';
  }
}
