/**
 * The playground in a real browser: the platform runs in process on a free port with a fresh data
 * folder; headless Chromium opens `/`, enters the key, picks a content and a style image, clicks
 * Stylize and watches the progress bar reach 100%, the result load at the content's size and the job
 * list show SUCCEEDED.
 */

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import sharp from 'sharp';
import { loadConfig } from '../../functions/config';
import { startPlatform, type Platform } from '../../functions/local/main';
import { IMAGES, modelPackage } from './support';

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
  let model: { dir: string; temporary: boolean };
  let platform: Platform;
  let browser: Browser;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'peerstyle-playground-'));
    model = await modelPackage();
    const config = loadConfig(['--port', '0', '--data-dir', path.join(dir, 'data'), '--drop-dir=off'], {}, dir);
    platform = await startPlatform({
      config,
      modelDir: model.dir,
      log: { info: () => undefined, error: () => undefined },
    });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
  });

  afterAll(async () => {
    await browser?.close();
    await platform?.stop();
    rmSync(dir, { recursive: true, force: true });
    if (model?.temporary) rmSync(model.dir, { recursive: true, force: true });
  });

  it('stylizes two chosen images and lists the job as SUCCEEDED', async () => {
    expect(platform.createdApiKey).toMatch(/^psk_/);
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    await page.goto(platform.playgroundUrl);

    await page.getByLabel('Key (kept in this browser)').fill(platform.createdApiKey!);
    await page.getByRole('button', { name: 'Use key' }).click();
    expect(await page.evaluate(() => localStorage.getItem('peerstyle.apiKey'))).toBe(platform.createdApiKey);
    await page.getByLabel('Content image').setInputFiles(path.join(IMAGES, 'photo-1.jpg'));
    await page.getByLabel('Style image').setInputFiles(path.join(IMAGES, 'painting-1.jpg'));
    await page.waitForFunction(() => (document.getElementById('content-preview') as HTMLImageElement).naturalWidth > 0);
    expect(await page.locator('#progress').evaluate((el) => (el as HTMLProgressElement).value)).toBe(0);

    await page.getByRole('button', { name: 'Stylize' }).click();
    await page.waitForFunction(() => (document.getElementById('progress') as HTMLProgressElement).value === 100, null, {
      timeout: 90_000,
    });
    await page.waitForFunction(() => {
      const img = document.getElementById('result') as HTMLImageElement;
      return !img.hidden && img.complete && img.naturalWidth > 0;
    });
    const natural = await page
      .locator('#result')
      .evaluate((img) => [(img as HTMLImageElement).naturalWidth, (img as HTMLImageElement).naturalHeight]);
    const content = await sharp(readFileSync(path.join(IMAGES, 'photo-1.jpg'))).metadata();
    expect(natural).toEqual([content.width, content.height]);
    expect(await page.locator('#progress-text').textContent()).toContain('SUCCEEDED');
    await expect(page.locator('#error').isHidden()).resolves.toBe(true);

    // The myJobs subscription (or the initial query) brings the job into the list.
    const row = page.locator('#jobs tr').first();
    await row.locator('td.status', { hasText: 'SUCCEEDED' }).waitFor();
    const jobs = await platform.runtime.jobs.list('local');
    const listedId = await row.getAttribute('data-job-id');
    expect(jobs.items.map((job) => job.id)).toContain(listedId);

    const shot = path.join(dir, 'playground.png');
    await page.screenshot({ path: shot, fullPage: true });
    const png = readFileSync(shot);
    expect(png.length).toBeGreaterThan(1000);
    expect(png.subarray(0, 8)).toEqual(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]));
    expect(pageErrors).toEqual([]);
  });
});
