/**
 * Issue #14, point 4: a keyboard-only annotator must read the whole prompt. The arrow keys are
 * verdict keys, so a prompt cut off behind a scrollbar cannot be read without a mouse. Pick-a-Pic's
 * longest prompts run to about 600 characters; one of exactly 600 must show in full at 1024x640
 * and 1280x800, with both images still on screen.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { makeJpeg } from '../helpers/project';
import { chooseAnnotator, expect, pickstudio, test, type Project } from './fixtures';

const PHRASES = [
  'A breathtaking ultra-detailed matte painting of an ancient floating city above a misty ocean',
  'at golden hour, towering spires of white marble and brass connected by delicate rope bridges',
  'lush hanging gardens spilling waterfalls into the clouds below, flocks of bioluminescent birds',
  'circling the tallest tower, a lone traveller in a red cloak standing on a cliff in the foreground',
  'cinematic lighting, volumetric fog, intricate architecture, trending on artstation, by Greg',
  'Rutkowski and Thomas Kinkade and Studio Ghibli, octane render, unreal engine 5, 8k resolution',
  'sharp focus, award winning, masterpiece, dramatic sky, rich saturated colours, wide angle lens',
];
/** Exactly 600 characters; the test looks for its last words, THE END, on screen. */
const PROMPT = `${PHRASES.join(', ')}`.slice(0, 592).trimEnd().padEnd(592, ',') + ' THE END';

const test600 = test.extend<{ project: Project }>({
  // One pair, imported from a manifest as a lead would, with the 600-character prompt.
  // Playwright reads a fixture's dependencies from this pattern: this one has none.
  // eslint-disable-next-line no-empty-pattern
  project: async ({}, use) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pickstudio-e2e-prompt-'));
    const file = path.join(dir, 'labels.pickstudio');
    fs.mkdirSync(path.join(dir, 'images'));
    const images = ['images/a.jpg', 'images/b.jpg'];
    for (const [i, image] of images.entries()) {
      fs.writeFileSync(path.join(dir, image), await makeJpeg(i + 1, 768, 768));
    }
    const manifest = path.join(dir, 'manifest.jsonl');
    const row = { prompt: PROMPT, image_0: images[0], image_1: images[1] };
    fs.writeFileSync(manifest, `${JSON.stringify(row)}\n`);
    await pickstudio(['import', file, manifest, '--create']);
    await use({ dir, file });
    fs.rmSync(dir, { recursive: true, force: true });
  },
});

test600.skip(({ mode }) => mode !== 'browser', 'the layout is the same page in Electron');

for (const viewport of [
  { width: 1024, height: 640 },
  { width: 1280, height: 800 },
]) {
  test600.describe(`at ${viewport.width}x${viewport.height}`, () => {
    test600.use({ viewport });

    test600(
      'a 600-character prompt is shown whole, the images still beside each other',
      async ({ studio }, testInfo) => {
        expect(PROMPT).toHaveLength(600);
        const { page } = studio;
        await chooseAnnotator(studio, 'long prompt e2e');
        const prompt = page.getByTestId('prompt');
        await expect(prompt).toHaveText(PROMPT);
        await expect(page.getByTestId('image-left')).toBeVisible();
        await expect(page.getByTestId('image-right')).toBeVisible();

        // Nothing hidden behind a scrollbar: the element is as tall as its text.
        const fit = await prompt.evaluate((el) => ({
          scrollHeight: el.scrollHeight,
          clientHeight: el.clientHeight,
          scrollWidth: el.scrollWidth,
          clientWidth: el.clientWidth,
        }));
        expect(fit.scrollHeight, 'hidden overflow').toBeLessThanOrEqual(fit.clientHeight);
        expect(fit.scrollWidth, 'hidden overflow').toBeLessThanOrEqual(fit.clientWidth);

        // And the element itself on screen, above the images, not under or beside them.
        const box = (await prompt.boundingBox())!;
        expect(box.x).toBeGreaterThanOrEqual(0);
        expect(box.y).toBeGreaterThanOrEqual(0);
        expect(box.x + box.width).toBeLessThanOrEqual(viewport.width);
        expect(box.y + box.height).toBeLessThanOrEqual(viewport.height);
        for (const side of ['left', 'right']) {
          const image = (await page.getByTestId(`image-${side}`).boundingBox())!;
          expect(image.width, side).toBeGreaterThan(100);
          expect(image.height, side).toBeGreaterThan(100);
          expect(image.y, side).toBeGreaterThanOrEqual(box.y + box.height);
          expect(image.y + image.height, side).toBeLessThanOrEqual(viewport.height);
        }
        // The last words are painted inside the viewport: not clipped by an ancestor either.
        const end = await prompt.evaluate((el) => {
          const text = el.firstChild!;
          const range = el.ownerDocument.createRange();
          range.setStart(text, text.textContent!.length - 'THE END'.length);
          range.setEnd(text, text.textContent!.length);
          const { top, bottom, left, right } = range.getBoundingClientRect();
          return { top, bottom, left, right };
        });
        expect(end.top).toBeGreaterThanOrEqual(box.y);
        expect(end.bottom).toBeLessThanOrEqual(Math.min(box.y + box.height, viewport.height));
        expect(end.right).toBeLessThanOrEqual(viewport.width);

        await page.screenshot({
          path: testInfo.outputPath(`long-prompt-${viewport.width}x${viewport.height}.png`),
        });
      },
    );
  });
}
