/**
 * The playground in a real browser: the platform runs in process on a free port with a fresh data
 * folder; headless Chromium opens `/` as a person would. The first load shows no broken images and the
 * favicon exists; a wrong key is refused where it is typed; with the right key, two styles (a file and
 * a saved style, whose preview shows) with weights and the options become one job, whose progress
 * arrives rounded, whose result shows large at the content's size with a before/after slider and a
 * download button, and which the job list shows SUCCEEDED; a large content shows its preview as soon as
 * it arrives, labelled and without a download, and then the full image in its place; a failed job
 * shows its error in the list;
 * at 390 px wide nothing runs off the screen. Screenshots at 1280 and 390 px are written to
 * PEERSTYLE_SCREENSHOT_DIR when it is set.
 */

import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import sharp from 'sharp';
import { loadConfig } from '../../functions/config';
import { startPlatform, type Platform } from '../../functions/local/main';
import { gql, image, IMAGES, modelPackage, upload } from './support';
import { at } from '../support/checked';

const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

describe('playground', () => {
  let dir: string;
  let shots: string;
  let model: { dir: string; temporary: boolean };
  let platform: Platform;
  let browser: Browser;
  // One profile for every page, as one person's browser: the key kept by the first is there for the next.
  let context: BrowserContext;
  let key: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'peerstyle-playground-'));
    shots = process.env.PEERSTYLE_SCREENSHOT_DIR ?? dir;
    mkdirSync(shots, { recursive: true });
    model = await modelPackage();
    const config = loadConfig(['--port', '0', '--data-dir', path.join(dir, 'data'), '--drop-dir=off'], {}, dir);
    platform = await startPlatform({
      config,
      modelDir: model.dir,
      log: { info: () => undefined, error: () => undefined },
    });
    key = platform.createdApiKey!;
    // A saved style, as a client saves one.
    const styleKey = await upload(platform.origin, key, image('painting-3.jpg'));
    await gql(
      platform.origin,
      key,
      'mutation($k: String!) { registerStyle(name: "Byzantine", uploadKey: $k) { id } }',
      {
        k: styleKey,
      },
    );
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
    context = await browser.newContext();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (model?.temporary) rmSync(model.dir, { recursive: true, force: true });
  });

  /** A fresh page that records script errors and CSP violations. */
  async function open(width = 1280, height = 900): Promise<{ page: Page; problems: string[] }> {
    const page = await context.newPage();
    await page.setViewportSize({ width, height });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => {
      if (message.type() === 'error') problems.push(message.text());
    });
    await page.goto(platform.playgroundUrl);
    return { page, problems };
  }

  /** Moves a slider as a person would, with the input event the page listens for. */
  const slide = (page: Page, selector: string, value: number) =>
    page.locator(selector).evaluate((input, v) => {
      (input as HTMLInputElement).value = String(v);
      input.dispatchEvent(new Event('input', { bubbles: true }));
    }, value);

  /** Every <img> the page shows, with whether it drew an image (a broken one has no natural size). */
  const visibleImages = (page: Page) =>
    page.evaluate(() =>
      Array.from(document.querySelectorAll('img'))
        .filter((img) => img.getClientRects().length > 0)
        .map((img) => ({ id: img.id || img.getAttribute('src'), drawn: img.complete && img.naturalWidth > 0 })),
    );

  it('first load: no broken images, a favicon, and a wrong key refused where it is typed', async () => {
    const favicon = await fetch(`${platform.origin}/favicon.ico`);
    expect([favicon.status, favicon.headers.get('content-type')]).toEqual([200, 'image/x-icon']);
    const { page, problems } = await open();
    // The only image on a fresh page is the brand icon; previews and the result stay hidden until used.
    await page.waitForFunction(() => document.querySelector('header img')?.getAttribute('src') !== null);
    await page.waitForLoadState('load');
    expect(await visibleImages(page)).toEqual([{ id: '/playground/icon.svg', drawn: true }]);
    await page.screenshot({ path: path.join(shots, 'playground-first-load.png'), fullPage: true });

    await page.getByLabel('Key (kept in this browser)').fill('psk_wrong');
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.locator('#key-status.bad').waitFor();
    expect(await page.locator('#key-status').textContent()).toMatch(/^UNAUTHENTICATED: /);
    expect(await page.evaluate(() => localStorage.getItem('peerstyle.apiKey'))).toBeNull();
    // Stylizing without an accepted key says so, and leaves no progress line behind.
    await page.getByLabel('Content image').setInputFiles(path.join(IMAGES, 'photo-1.jpg'));
    await page.getByLabel('Style image', { exact: true }).setInputFiles(path.join(IMAGES, 'painting-1.jpg'));
    await page.getByRole('button', { name: 'Stylize' }).click();
    expect(await page.locator('#error').textContent()).toBe('UNAUTHENTICATED: Enter an API key first.');
    expect(await page.locator('#progress-box').isHidden()).toBe(true);
    expect(problems.filter((p) => !/401|Unauthorized/i.test(p))).toEqual([]);
    await page.close();
  });

  it('stylizes a content with two weighted styles and the options, and shows the result large', async () => {
    const { page, problems } = await open();
    const progress: number[] = [];
    page.on('websocket', (socket) =>
      socket.on('framereceived', ({ payload }) => {
        for (const match of String(payload).matchAll(/"progress":([0-9.e-]+)/g)) progress.push(Number(match[1]));
      }),
    );
    await page.getByLabel('Key (kept in this browser)').fill(key);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.locator('#key-status.ok').waitFor();
    expect(await page.locator('#key-status').textContent()).toMatch(/^Key accepted · model \S+/);
    expect(await page.evaluate(() => localStorage.getItem('peerstyle.apiKey'))).toBe(key);

    await page.getByLabel('Content image').setInputFiles(path.join(IMAGES, 'photo-1.jpg'));
    await page.getByLabel('Style image', { exact: true }).setInputFiles(path.join(IMAGES, 'painting-1.jpg'));
    await slide(page, '#style-weight-1', 0.7);
    await page.getByRole('button', { name: 'Add a style' }).click();
    // A saved style shows its preview when picked.
    await page.locator('#style-select-2 option', { hasText: 'Byzantine' }).waitFor({ state: 'attached' });
    await page.locator('#style-select-2').selectOption({ label: 'Byzantine' });
    await page.waitForFunction(() => {
      const img = document.querySelector('img[alt="Style 2 preview"]') as HTMLImageElement;
      return !img.hidden && img.complete && img.naturalWidth > 0;
    });
    await slide(page, '#style-weight-2', 0.3);
    await slide(page, '#strength', 0.8);
    await page.getByLabel("Keep the content's colours").check();
    await page.getByLabel('Structure').selectOption('KEEP');
    await page.waitForFunction(() => (document.getElementById('content-preview') as HTMLImageElement).naturalWidth > 0);

    await page.getByRole('button', { name: 'Stylize' }).click();
    await page.waitForFunction(() => (document.getElementById('progress') as HTMLProgressElement).value === 100, null, {
      timeout: 90_000,
    });
    await page.waitForFunction(() => {
      const img = document.getElementById('result') as HTMLImageElement;
      return img.getClientRects().length > 0 && img.complete && img.naturalWidth > 0;
    });
    expect(await page.locator('#progress-text').textContent()).toContain('SUCCEEDED');
    expect(await page.locator('#error').isHidden()).toBe(true);

    // The job the page submitted: both styles with their weights, the options, and no size, so the
    // server keeps the content's.
    const job = at((await platform.runtime.jobs.list('local')).items, 0);
    expect(job.input).toMatchObject({ strength: 0.8, preserveColor: true, structure: 'keep', format: 'png' });
    expect((job.input as { styles: { weight: number; styleId: string | null }[] }).styles).toEqual([
      expect.objectContaining({ weight: 0.7, styleId: null }),
      expect.objectContaining({ weight: 0.3, styleId: expect.any(String) }),
    ]);
    expect(job.input).not.toHaveProperty('size');

    // Large, at the content's size, with a before/after slider and a download button.
    const natural = await page
      .locator('#result')
      .evaluate((img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]);
    const content = await sharp(readFileSync(path.join(IMAGES, 'photo-1.jpg'))).metadata();
    expect(natural).toEqual([content.width, content.height]);
    const shown = await page.locator('#result').boundingBox();
    expect(shown!.width).toBeGreaterThan(500);
    await slide(page, '#split', 20);
    expect(await page.locator('#before').evaluate((img) => getComputedStyle(img).clipPath)).toMatch(
      /^inset\(0px (calc\()?80%/,
    );
    await slide(page, '#split', 60);
    const download = page.locator('#download');
    expect(await download.isVisible()).toBe(true);
    expect(await download.getAttribute('href')).toBe(await page.locator('#result').getAttribute('src'));
    expect(await download.getAttribute('download')).toMatch(/^peerstyle-[0-9a-f]{8}\.png$/);

    // Progress reaches the page rounded (the engine's stages add up to 0.30000000000000004).
    expect(progress.length).toBeGreaterThan(3);
    for (const value of progress) expect(value).toBe(Math.round(value * 10_000) / 10_000);

    const row = page.locator(`#jobs tr[data-job-id="${job.id}"]`);
    await row.locator('td.status', { hasText: 'SUCCEEDED' }).waitFor();
    await page.screenshot({ path: path.join(shots, 'playground-1280.png'), fullPage: true });
    expect(problems).toEqual([]);
    await page.close();
  });

  it('shows the preview of a large content as soon as it arrives, then the full image in its place', async () => {
    // 1024×768: over 512 px, so the server's default asks for a preview.
    const large = path.join(dir, 'large-content.jpg');
    writeFileSync(large, await sharp(image('photo-2.jpg')).resize(1024, 768).jpeg().toBuffer());
    const { page, problems } = await open();
    const events: string[] = [];
    page.on('websocket', (socket) =>
      socket.on('framereceived', ({ payload }) => {
        const type = /"jobProgress":\{"type":"([A-Z_]+)"/.exec(String(payload))?.[1];
        if (type) events.push(type);
      }),
    );
    await page.getByLabel('Key (kept in this browser)').fill(key);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.locator('#key-status.ok').waitFor();
    // Each image the result shows, as it finished loading, with what the page said around it then.
    await page.evaluate(() => {
      const img = document.getElementById('result') as HTMLImageElement;
      const shown: Record<string, unknown>[] = [];
      (window as unknown as { shown: typeof shown }).shown = shown;
      img.addEventListener('load', () =>
        shown.push({
          src: img.src,
          size: [img.naturalWidth, img.naturalHeight],
          tag: document.getElementById('after-tag')!.textContent,
          note: !document.getElementById('preview-note')!.hidden,
          download: !document.getElementById('download')!.hidden,
          progress: document.getElementById('progress-text')!.textContent,
        }),
      );
    });
    await page.getByLabel('Content image').setInputFiles(large);
    await page.getByLabel('Style image', { exact: true }).setInputFiles(path.join(IMAGES, 'painting-1.jpg'));
    await page.getByRole('button', { name: 'Stylize' }).click();
    const shown = async () => page.evaluate(() => (window as unknown as { shown: Record<string, unknown>[] }).shown);
    await page.waitForFunction(() => (window as unknown as { shown: unknown[] }).shown.length >= 1, null, {
      timeout: 120_000,
    });
    const preview = at(await shown(), 0);
    expect(preview).toMatchObject({ size: [512, 384], tag: 'Preview', note: true, download: false });
    expect(preview.src).toMatch(/\/downloads\/results\/[0-9a-f-]{36}\.preview\.jpg\?/);
    // Drawn while the job still ran (the server's event loop, shared with the in-process worker, may
    // serve the download a few stages after the event).
    expect(preview.progress).toMatch(/^RUNNING · /);
    await page.screenshot({ path: path.join(shots, 'playground-preview.png'), fullPage: true });

    await page.waitForFunction(() => (window as unknown as { shown: unknown[] }).shown.length >= 2, null, {
      timeout: 300_000,
    });
    const all = await shown();
    expect(all).toHaveLength(2);
    expect(all[1]).toMatchObject({ size: [1024, 768], tag: 'After', note: false, download: true });
    const final = all[1]!;
    expect(final.src).toMatch(/\/downloads\/results\/[0-9a-f-]{36}\.png\?/);
    expect(await page.locator('#download').getAttribute('href')).toBe(final.src);
    expect(await page.locator('#progress-text').textContent()).toContain('SUCCEEDED');
    // The preview came over the subscription before the job finished, and once.
    expect(events.filter((type) => type === 'PREVIEW')).toHaveLength(1);
    expect(events.indexOf('PREVIEW')).toBeLessThan(events.indexOf('STATUS_CHANGED', events.indexOf('PREVIEW')));
    expect(events[events.length - 1]).toBe('STATUS_CHANGED');
    expect(problems).toEqual([]);
    await page.close();
  }, 420_000);

  it('shows a failed job’s error in the job list', async () => {
    const contentKey = await upload(platform.origin, key, image('truncated.jpg'));
    const styleKey = await upload(platform.origin, key, image('painting-2.jpg'));
    const { page } = await open();
    await page.locator('#key-status.ok').waitFor(); // the key kept from the test before
    const submitted = await gql(platform.origin, key, 'mutation($i: StylizeInput!) { stylize(input: $i) { id } }', {
      i: { content: contentKey, styles: [{ uploadKey: styleKey }] },
    });
    const id = submitted.data.stylize.id as string;
    await page.locator(`#jobs tr[data-job-id="${id}"] td.status`, { hasText: 'FAILED' }).waitFor({ timeout: 30_000 });
    const reason = page.locator(`#jobs tr[data-job-id="${id}"] + tr td.job-error`);
    expect(await reason.textContent()).toMatch(/^TRUNCATED: The content image is damaged or truncated/);
    await page.close();
  });

  it('fits a 390 px wide phone screen', async () => {
    const { page, problems } = await open(390, 844);
    await page.locator('#key-status.ok').waitFor();
    await page.locator('#jobs tr').first().waitFor();
    await page.getByLabel('Content image').setInputFiles(path.join(IMAGES, 'photo-2.jpg'));
    await page.getByLabel('Style image', { exact: true }).setInputFiles(path.join(IMAGES, 'painting-4.webp'));
    await page.getByRole('button', { name: 'Stylize' }).click();
    await page.waitForFunction(
      () => {
        const img = document.getElementById('result') as HTMLImageElement;
        return img.getClientRects().length > 0 && img.complete && img.naturalWidth > 0;
      },
      null,
      { timeout: 90_000 },
    );
    const widths = await page.evaluate(() => ({
      page: document.documentElement.scrollWidth,
      widest: Math.max(
        ...Array.from(document.querySelectorAll('body *')).map((el) => el.getBoundingClientRect().right),
      ),
    }));
    await page.screenshot({ path: path.join(shots, 'playground-390.png'), fullPage: true });
    expect(widths.page).toBeLessThanOrEqual(390);
    expect(widths.widest).toBeLessThanOrEqual(390);
    expect(problems).toEqual([]);
    await page.close();
  });
});
