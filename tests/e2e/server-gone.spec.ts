/**
 * Issue #14, point 7: when the studio's server is gone, the page says what happened and what to
 * do in plain words, with the technical message behind a closed toggle; after a restart (a new
 * token on the same port), the old tab's calls say so, and reloading it shows a page explaining
 * which address to open, still a 403 that names neither the project nor any token.
 */
import {
  chooseAnnotator,
  expect,
  openServedPage,
  serve,
  shownPair,
  test,
  type OpenedPage,
} from './fixtures';
import type { Served } from './serve';

test.skip(({ mode }) => mode !== 'browser', 'only browser mode has a server to lose');

test('a stopped and restarted server is explained in plain words', async ({
  project,
  studioBrowser,
  viewport,
}) => {
  let served: Served = await serve(project.file);
  const firstUrl = served.url;
  const opened: OpenedPage = await openServedPage(studioBrowser!, firstUrl, viewport);
  try {
    const { studio } = opened;
    const { page, view } = studio;
    await chooseAnnotator(studio, 'server gone e2e');
    await shownPair(studio);

    await served.stop();
    await page.keyboard.press('1');
    await expect(view).toHaveAttribute('data-state', 'error');
    const message = page.getByTestId('error-message');
    await expect(message).toHaveText(
      "Pick Studio's server is not answering. Your last decision may not be saved. " +
        'Check that pickstudio serve is still running, then reload.',
    );
    const detail = page.getByTestId('error-detail');
    await expect(detail).not.toHaveAttribute('open');
    await expect(detail.locator('summary')).toBeVisible();
    const technical = detail.locator('code');
    await expect(technical).toBeHidden();
    await expect(technical).toContainText('cannot reach the Pick Studio server');
    await expect(technical).toContainText('(unreachable)');

    // Started again on the same port: a new token, which the old tab does not hold.
    served = await serve(project.file, { port: served.port });
    expect(served.url).not.toBe(firstUrl);
    await page.keyboard.press('1');
    await expect(message).toHaveText(
      "Pick Studio's server was restarted, so this tab no longer has access. Your last decision " +
        'was not saved. Open the address the pickstudio command printed (it carries a new token).',
    );
    await expect(detail).not.toHaveAttribute('open');
    await expect(technical).toContainText('HTTP 403');

    // Reloading the old tab: a page saying what to do, not a bare `forbidden`.
    const reloaded = await page.reload();
    expect(reloaded?.status()).toBe(403);
    expect(reloaded?.headers()['content-type']).toMatch(/^text\/html/);
    await expect(page.getByTestId('stale-tab')).toContainText(
      'This Pick Studio tab belongs to a server that has stopped or restarted. Open the address ' +
        'the pickstudio command printed (it carries a new token).',
    );
    const html = await page.content();
    const token = new URL(served.url).searchParams.get('token')!;
    const oldToken = new URL(firstUrl).searchParams.get('token')!;
    for (const secret of [token, oldToken, project.file, 'labels.pickstudio']) {
      expect(html).not.toContain(secret);
    }
    // An old token in the address gets the same page.
    const withOldToken = await page.goto(firstUrl);
    expect(withOldToken?.status()).toBe(403);
    await expect(page.getByTestId('stale-tab')).toBeVisible();

    // The API keeps its terse refusal, for the page's client and for scripts.
    const api = await page.evaluate(async () => {
      const res = await fetch('api/call/getStats', { method: 'POST', body: '{}' });
      return { status: res.status, type: res.headers.get('content-type'), body: await res.text() };
    });
    expect(api.status).toBe(403);
    expect(api.type).toMatch(/^text\/plain/);
    expect(api.body).toMatch(/^forbidden: /);

    // The address the command printed still opens the studio.
    await page.goto(served.url);
    await expect(view).toHaveAttribute('data-state', /^(ready|loading)$|^$/);
    await expect(
      page.getByTestId('annotator-name').or(page.getByTestId('annotator')),
    ).toBeVisible();
  } finally {
    await opened.close();
    await served.stop();
  }
});
