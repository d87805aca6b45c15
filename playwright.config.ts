import { defineConfig } from '@playwright/test';
import { chromiumLaunchOptions } from './tests/e2e/serve';

export default defineConfig<{ mode: 'browser' | 'electron' }>({
  testDir: 'tests/e2e',
  // Each test serves its own project; one at a time keeps a 2-core machine responsive.
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  reporter: [['list'], ['json', { outputFile: 'reports/playwright.json' }]],
  outputDir: 'reports/playwright-results',
  globalSetup: './tests/e2e/global-setup.ts',
  use: {
    headless: true,
    viewport: { width: 1280, height: 800 },
  },
  projects: [
    {
      name: 'browser',
      use: { mode: 'browser', browserName: 'chromium', launchOptions: chromiumLaunchOptions },
    },
    { name: 'electron', use: { mode: 'electron' } },
  ],
});
