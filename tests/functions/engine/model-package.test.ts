/**
 * Package checks: a freshly exported package loads; a tampered byte, a truncated, missing or swapped
 * graph and a bad manifest are each refused with one error naming the file at fault. Also the session
 * options each graph opens with.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

import { closeModelPackage, loadModelPackage, ModelPackageError } from '../../../functions/engine';
import { graphSessionOptions } from '../../../functions/engine/model-package';
import {
  GRAPH_FILES,
  TILED_GRAPH_FILES,
  type GraphName,
  type TiledGraphName,
} from '../../../trainer/export/package-format';
import { at } from '../../support/checked';
import { exportTinyPackage } from '../../support/tiny-package';

let source: string;
let scratch: string;

beforeAll(async () => {
  // With the colour head (and the decoder it was made with), so the head's manifest checks are exercised.
  const exported = await exportTinyPackage(3, { colorHead: true, colorMean: false, upsample: 'transpose' });
  exported.store.dispose();
  source = exported.dir;
  scratch = mkdtempSync(path.join(tmpdir(), 'peerstyle-pkg-'));
});

afterAll(() => {
  rmSync(source, { recursive: true, force: true });
  rmSync(scratch, { recursive: true, force: true });
});

let copies = 0;
/** A fresh copy of the package, damaged by `damage`. */
function damagedCopy(damage: (dir: string) => void): string {
  const dir = path.join(scratch, `copy-${copies++}`);
  cpSync(source, dir, { recursive: true });
  damage(dir);
  return dir;
}

async function loadError(dir: string): Promise<Error> {
  try {
    const pkg = await loadModelPackage(dir, { intraOpThreads: 1 });
    await closeModelPackage(pkg);
  } catch (err) {
    return err as Error;
  }
  throw new Error(`${dir} loaded although it should not`);
}

test('an exported package loads with all three graphs', async () => {
  const pkg = await loadModelPackage(source, { intraOpThreads: 1 });
  expect(pkg.manifest.name).toBe('tiny-random');
  expect(pkg.sessions.tpfr.inputNames).toEqual(['content', 'peers', 'peer_log_weight']);
  expect(pkg.sessions.encoder.outputNames).toEqual(['latent']);
  expect(pkg.sessions.decoder.outputNames).toEqual(['image']);
  await closeModelPackage(pkg);
});

test('a tampered byte in a graph is refused, naming the file', async () => {
  const dir = damagedCopy((d) => {
    const file = path.join(d, 'decoder.onnx');
    const bytes = readFileSync(file);
    const middle = Math.floor(bytes.length / 2);
    bytes[middle] = at(bytes, middle) ^ 0x01;
    writeFileSync(file, bytes);
  });
  const err = await loadError(dir);
  expect(err).toBeInstanceOf(ModelPackageError);
  expect(err.message).toContain('decoder.onnx');
  expect(err.message).toMatch(/sha256/);
});

test('a truncated graph is refused, naming the file and the sizes', async () => {
  const dir = damagedCopy((d) => {
    const file = path.join(d, 'tpfr.onnx');
    writeFileSync(file, readFileSync(file).subarray(0, 100));
  });
  const err = await loadError(dir);
  expect(err.message).toContain('tpfr.onnx');
  expect(err.message).toContain('100 bytes');
});

test('a missing graph is refused, naming the file', async () => {
  const err = await loadError(damagedCopy((d) => unlinkSync(path.join(d, 'encoder.onnx'))));
  expect(err.message).toMatch(/encoder\.onnx is missing/);
});

test('a graph swapped for another is refused', async () => {
  const dir = damagedCopy((d) => cpSync(path.join(d, 'decoder.onnx'), path.join(d, 'encoder.onnx')));
  const err = await loadError(dir);
  expect(err.message).toContain('encoder.onnx');
});

test('a manifest of another format or without required fields is refused', async () => {
  const wrongFormat = damagedCopy((d) => {
    const m = JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8'));
    writeFileSync(path.join(d, 'manifest.json'), JSON.stringify({ ...m, format: 'something-else/9' }));
  });
  expect((await loadError(wrongFormat)).message).toMatch(/format "something-else\/9"; expected "peerstyle-model\/1"/);
  const noConfig = damagedCopy((d) => {
    const m = JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8'));
    delete m.config;
    delete m.version;
    writeFileSync(path.join(d, 'manifest.json'), JSON.stringify(m));
  });
  expect((await loadError(noConfig)).message).toMatch(/lacks required fields: version, config/);
  expect(
    (await loadError(damagedCopy((d) => writeFileSync(path.join(d, 'manifest.json'), '{ not json')))).message,
  ).toMatch(/manifest\.json is not valid JSON/);
  expect((await loadError(path.join(scratch, 'nowhere'))).message).toMatch(/manifest\.json is missing/);
});

test('a model with the colour head but missing or malformed head weights is refused', async () => {
  const edit = (change: (m: { colourHead: Record<string, unknown> }) => void) =>
    damagedCopy((d) => {
      const m = JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8'));
      change(m);
      writeFileSync(path.join(d, 'manifest.json'), JSON.stringify(m));
    });
  const exported = JSON.parse(readFileSync(path.join(source, 'manifest.json'), 'utf8'));
  expect(exported.config.colorHead).toBe(true);
  expect(exported.colourHead.shiftWeight).toHaveLength(18);
  const missing = edit((m) => delete (m as { colourHead?: unknown }).colourHead);
  expect((await loadError(missing)).message).toMatch(/config\.colorHead on but no colourHead weights/);
  const short = edit((m) => (m.colourHead.scaleWeight = (m.colourHead.scaleWeight as number[]).slice(1)));
  expect((await loadError(short)).message).toMatch(/invalid colourHead\.scaleWeight/);
  const notNumber = edit((m) => (m.colourHead.shiftBias = [0, 'x', 0]));
  expect((await loadError(notNumber)).message).toMatch(/invalid colourHead\.shiftBias/);
});

test('an unknown defaults.structure is refused, naming the manifest', async () => {
  const dir = damagedCopy((d) => {
    const m = JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8'));
    writeFileSync(path.join(d, 'manifest.json'), JSON.stringify({ ...m, defaults: { structure: 'both' } }));
  });
  expect((await loadError(dir)).message).toMatch(
    /manifest\.json has defaults\.structure "both"; expected keep or transfer/,
  );
});

test("a defaults.styleSize outside the API's style sizes is refused, naming the manifest", async () => {
  for (const bad of [32, 96.5, '128']) {
    const dir = damagedCopy((d) => {
      const m = JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8'));
      writeFileSync(path.join(d, 'manifest.json'), JSON.stringify({ ...m, defaults: { styleSize: bad } }));
    });
    expect((await loadError(dir)).message).toMatch(
      /manifest\.json has defaults\.styleSize .*; expected a whole number of pixels in 64\.\.2048/,
    );
  }
});

test("a defaults.renderScale outside the API's render scales is refused, naming the manifest", async () => {
  for (const bad of [0.5, 5, '2']) {
    const dir = damagedCopy((d) => {
      const m = JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8'));
      writeFileSync(path.join(d, 'manifest.json'), JSON.stringify({ ...m, defaults: { renderScale: bad } }));
    });
    expect((await loadError(dir)).message).toMatch(
      /manifest\.json has defaults\.renderScale .*; expected a number in 1\.\.4/,
    );
  }
});

test('a defaults.conditionSide is refused on a model without style modulation, and out of range', async () => {
  const withSide = (side: unknown): string =>
    damagedCopy((d) => {
      const m = JSON.parse(readFileSync(path.join(d, 'manifest.json'), 'utf8'));
      writeFileSync(path.join(d, 'manifest.json'), JSON.stringify({ ...m, defaults: { conditionSide: side } }));
    });
  expect((await loadError(withSide(128))).message).toMatch(
    /manifest\.json has defaults\.conditionSide: the model has no style modulation \(styleModulation\)/,
  );
  expect((await loadError(withSide(8))).message).toMatch(
    /manifest\.json has defaults\.conditionSide: 8 is not a whole number of pixels in 16\.\.2048/,
  );
});

test('no graph session spins, and the tiled graphs give their memory back after each run', () => {
  for (const graph of [...Object.keys(GRAPH_FILES), ...Object.keys(TILED_GRAPH_FILES)] as (
    GraphName | TiledGraphName
  )[]) {
    const options = graphSessionOptions(graph, { intraOpThreads: 2 });
    expect(options).toMatchObject({ intraOpThreads: 2, spinWait: false });
    expect(options.lowMemory === true).toBe(graph in TILED_GRAPH_FILES);
  }
});
