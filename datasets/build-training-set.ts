/**
 * Builds the wide training set: a few hundred style images and a few hundred content photos taken
 * from Debian packages listed in training-sources.ts. Debian is the one image source this project
 * can reach, and every package carries a copyright file, so each picture keeps a traceable licence.
 *
 * The builder downloads and unpacks each package once (cached under ~/.cache/peerstyle-datasets),
 * filters out junk (tiny, flat, cut-out sprites), drops near-duplicates and every image reserved for
 * independent evaluation, scales the rest to a short side of 256 px, splits them deterministically
 * into train and held-out, and writes a manifest both beside the images and into the repo.
 *
 *   npx tsx datasets/build-training-set.ts --out ~/peerstyle-data/wide
 */
import { createHash } from 'crypto';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import sharp from 'sharp';
import { TRAINING_SOURCES, type Role, type TrainingSource } from './training-sources';

const REPO_ROOT = path.resolve(__dirname, '..');
const IMAGE_EXTENSIONS = /\.(jpe?g|png|webp)$/i;
const MIN_SHORT_SIDE = 200;
const TARGET_SHORT_SIDE = 256;
const MAX_LONG_SIDE = 512;
const JPEG_QUALITY = 92;
/** Different resolutions of one picture differ by 0–3 bits of a 64-bit difference hash. */
const DUPLICATE_DISTANCE = 5;
/** Reserved images get a wider margin: a false skip costs one image, a miss leaks evaluation data. */
const RESERVED_DISTANCE = 8;
/** Luminance standard deviation (0–255) below which an image is a gradient or flat fill. */
const MIN_LUMA_STDDEV = 8;
/** Share of clearly transparent pixels above which an image is a cut-out sprite or icon. */
const MAX_TRANSPARENT_SHARE = 0.05;
/** Share of pixels matching a uniform border colour above which the picture is an object on a plain backdrop. */
const MAX_BACKDROP_SHARE = 0.35;
/** Bumping this invalidates cached analyses and scaled outputs when the rules above change. */
const CACHE_FORMAT = 3;

export interface BuildOptions {
  out: string;
  cache: string;
  heldoutShare: number;
  maxPerPackage: number;
  reserved: string;
}

export interface Candidate {
  pkg: string;
  version: string;
  /** Path inside the package, starting with '/'. */
  source: string;
  /** Absolute path of the extracted file. */
  file: string;
  spec: TrainingSource;
}

export interface Analysis {
  width: number;
  height: number;
  hash: string;
  lumaStddev: number;
  transparentShare: number;
  backdropShare: number;
}

export interface ManifestEntry {
  file: string;
  split: 'train' | 'heldout';
  role: Role;
  debianPackage: string;
  packageVersion: string;
  source: string;
  licence: string;
  kind: string;
  width: number;
  height: number;
}

export interface ReservedEntry {
  pkg: string;
  source: string;
}

export interface ScalePlan {
  crop: { left: number; top: number; width: number; height: number } | null;
  width: number;
  height: number;
}

// ---------------------------------------------------------------- pure rules (unit-tested)

/** Shell-style glob over package paths: '**' crosses folders, '*' and '?' do not, '{a,b}' picks one. */
export function globToRegExp(glob: string): RegExp {
  let re = '';
  let braces = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === '{') {
      re += '(?:';
      braces++;
    } else if (c === '}' && braces > 0) {
      re += ')';
      braces--;
    } else if (c === ',' && braces > 0) re += '|';
    else if (c === '*' && glob[i + 1] === '*') {
      re += '.*';
      i++;
      if (glob[i + 1] === '/') i++;
    } else if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else re += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return new RegExp(`^${re}$`);
}

/**
 * Key shared by every file that shows the same picture: one Plasma-style wallpaper folder holds
 * several resolutions and a dark variant, and other packages spell resolutions or light/dark
 * variants into the file name. Files with one key are one picture for reservation and dedup.
 */
export function pictureKey(pkg: string, source: string): string {
  const bundle = /^(.*?\/)contents\/images(?:_dark)?\//.exec(source);
  if (bundle) return `${pkg}\t${bundle[1]}`;
  const dir = path.posix.dirname(source);
  const stem = path.posix
    .basename(source)
    .replace(IMAGE_EXTENSIONS, '')
    .toLowerCase()
    .replace(/[-_ ]?\d{3,5}x\d{3,5}/g, '')
    .replace(/[-_ ]?(portrait|landscape)$/g, '')
    .replace(/[-_](dark|light|day|night|morning|[ld])$/g, '');
  return `${pkg}\t${dir}/${stem}`;
}

export function parseReserved(text: string): ReservedEntry[] {
  const entries: ReservedEntry[] = [];
  for (const [i, raw] of text.split('\n').entries()) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const [pkg, source] = raw.split('\t');
    if (!pkg || !source) throw new Error(`reserved list line ${i + 1}: expected "package<TAB>path"`);
    entries.push({ pkg: pkg.trim(), source: source.trim() });
  }
  return entries;
}

/** Which reservation rule, if any, keeps a candidate out; the near-hash rule needs pixels and lives elsewhere. */
export function reservedRule(
  pkg: string,
  source: string,
  reserved: readonly ReservedEntry[],
): 'reserved-exact' | 'reserved-same-picture' | null {
  if (reserved.some((r) => r.pkg === pkg && r.source === source)) return 'reserved-exact';
  const key = pictureKey(pkg, source);
  if (reserved.some((r) => pictureKey(r.pkg, r.source) === key)) return 'reserved-same-picture';
  return null;
}

/** 64-bit difference hash of a 9×8 greyscale thumbnail, as 16 hex digits. */
export function differenceHash(grey9x8: Uint8Array | Buffer): string {
  if (grey9x8.length !== 72) throw new Error(`difference hash needs 72 grey pixels, got ${grey9x8.length}`);
  let bits = 0n;
  for (let y = 0; y < 8; y++) {
    for (let x = 0; x < 8; x++) {
      bits = (bits << 1n) | (grey9x8[y * 9 + x]! > grey9x8[y * 9 + x + 1]! ? 1n : 0n);
    }
  }
  return bits.toString(16).padStart(16, '0');
}

export function hammingDistance(a: string, b: string): number {
  let x = BigInt(`0x${a}`) ^ BigInt(`0x${b}`);
  let n = 0;
  while (x) {
    n += Number(x & 1n);
    x >>= 1n;
  }
  return n;
}

export function isNearHash(hash: string, others: Iterable<string>, maxDistance: number): boolean {
  for (const other of others) if (hammingDistance(hash, other) <= maxDistance) return true;
  return false;
}

/** Uniform number in [0, 1) from package and path: the split must not change between runs or machines. */
export function stableUnit(pkg: string, source: string): number {
  const digest = createHash('sha256').update(`${pkg}\t${source}`).digest();
  return digest.readUInt32BE(0) / 2 ** 32;
}

/**
 * Held-out files: those whose stable number falls below the share. A group (role, kind, package)
 * large enough to expect one held-out file but drawing none gives up its lowest-numbered file, so
 * the held-out styles cover every kind. Pinned files (sample images) always stay in training.
 */
export function chooseHeldout<T extends { pkg: string; source: string; group: string; pinned: boolean }>(
  items: readonly T[],
  share: number,
): Set<T> {
  const heldout = new Set<T>();
  const groups = new Map<string, T[]>();
  for (const item of items) groups.set(item.group, [...(groups.get(item.group) ?? []), item]);
  for (const members of groups.values()) {
    const eligible = members
      .filter((m) => !m.pinned)
      .map((m) => ({ m, u: stableUnit(m.pkg, m.source) }))
      .sort((a, b) => a.u - b.u);
    for (const { m, u } of eligible) if (u < share) heldout.add(m);
    const expected = members.length * share;
    const [first] = eligible;
    if (first && expected >= 1 && eligible.length > 1 && !eligible.some(({ m }) => heldout.has(m))) {
      heldout.add(first.m);
    }
  }
  return heldout;
}

/**
 * Crop and size for one image: centre-crop the long side to 2:1 at most, then shrink (never
 * enlarge) so the short side is 256 px, which also keeps the long side within 512 px.
 */
export function scalePlan(width: number, height: number): ScalePlan {
  const short = Math.min(width, height);
  const long = Math.max(width, height);
  const keptLong = Math.min(long, 2 * short);
  let crop: ScalePlan['crop'] = null;
  if (keptLong < long) {
    const offset = Math.floor((long - keptLong) / 2);
    crop =
      width >= height
        ? { left: offset, top: 0, width: keptLong, height }
        : { left: 0, top: offset, width, height: keptLong };
  }
  const factor = Math.min(1, TARGET_SHORT_SIDE / short);
  const outShort = Math.round(short * factor);
  const outLong = Math.min(MAX_LONG_SIDE, Math.round(keptLong * factor));
  return width >= height
    ? { crop, width: outLong, height: outShort }
    : { crop, width: outShort, height: outLong };
}

export function kebab(text: string): string {
  return text
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

/** Readable stem: wallpaper bundles name their files by resolution, so the folder names the picture. */
export function outputStem(short: string, source: string): string {
  const bundle = /\/([^/]+)\/contents\/images(?:_dark)?\//.exec(source);
  const stem = bundle?.[1] ?? path.posix.basename(source).replace(IMAGE_EXTENSIONS, '');
  return `${kebab(short)}-${kebab(stem) || 'image'}`;
}

export function uniqueName(stem: string, taken: Set<string>): string {
  let name = `${stem}.jpg`;
  for (let n = 2; taken.has(name); n++) name = `${stem}-${n}.jpg`;
  taken.add(name);
  return name;
}

export function parseArgs(argv: readonly string[]): BuildOptions {
  const values = new Map<string, string>();
  // One iterator for the loop and for the values it takes, so that a flag's value is skipped as an argument.
  const rest = argv.values();
  for (const flag of rest) {
    if (!['--out', '--cache', '--heldout-share', '--max-per-package', '--reserved'].includes(flag)) {
      throw new Error(`unknown option ${flag}`);
    }
    const value = rest.next().value;
    if (value === undefined) throw new Error(`${flag} needs a value`);
    values.set(flag, value);
  }
  const out = values.get('--out');
  if (!out) throw new Error('--out is required');
  const heldoutShare = Number(values.get('--heldout-share') ?? '0.15');
  if (!(heldoutShare >= 0 && heldoutShare < 1)) throw new Error('--heldout-share must be in [0, 1)');
  const maxPerPackage = Number(values.get('--max-per-package') ?? '80');
  if (!Number.isInteger(maxPerPackage) || maxPerPackage < 1) throw new Error('--max-per-package must be a positive integer');
  return {
    out: expandHome(out),
    cache: expandHome(values.get('--cache') ?? '~/.cache/peerstyle-datasets'),
    heldoutShare,
    maxPerPackage,
    reserved: expandHome(values.get('--reserved') ?? path.join(REPO_ROOT, '..', 'shared', 'datasets', 'reserved.txt')),
  };
}

function expandHome(p: string): string {
  return path.resolve(p.replace(/^~(?=$|\/)/, os.homedir()));
}

// ---------------------------------------------------------------- packages

interface Extracted {
  version: string;
  root: string;
}

/** apt-get download names files <pkg>_<version>_<arch>.deb with ':' escaped, so find by prefix. */
function findDeb(debDir: string, pkg: string): string | undefined {
  const name = fs.readdirSync(debDir).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  return name && path.join(debDir, name);
}

function downloadDeb(debDir: string, pkg: string): string {
  fs.mkdirSync(debDir, { recursive: true });
  const cached = findDeb(debDir, pkg);
  if (cached) return cached;
  try {
    execFileSync('apt-get', ['download', pkg], { cwd: debDir, stdio: ['ignore', 'ignore', 'pipe'] });
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '').trim().split('\n').pop();
    throw new Error(`apt-get download ${pkg} failed: ${stderr} (run 'apt-get update' first?)`);
  }
  const deb = findDeb(debDir, pkg);
  if (!deb) throw new Error(`apt-get download ${pkg} left no .deb in ${debDir}`);
  return deb;
}

/** Unpacks once into a folder named by version; the marker file makes a half-finished unpack redo itself. */
function extractPackage(cache: string, pkg: string): Extracted {
  const deb = downloadDeb(path.join(cache, 'debs'), pkg);
  const version = execFileSync('dpkg-deb', ['-f', deb, 'Version'], { encoding: 'utf8' }).trim();
  const root = path.join(cache, 'trees', `${pkg}_${version.replace(/[:/]/g, '_')}`);
  const marker = path.join(root, '.extracted');
  if (!fs.existsSync(marker)) {
    fs.rmSync(root, { recursive: true, force: true });
    fs.mkdirSync(root, { recursive: true });
    execFileSync('dpkg-deb', ['-x', deb, root]);
    fs.writeFileSync(marker, '');
  }
  return { version, root };
}

function* walkFiles(dir: string): Generator<string> {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) yield* walkFiles(full);
    else if (entry.isFile()) yield full;
  }
}

function listCandidates(spec: TrainingSource, extracted: Extracted): Candidate[] {
  const include = spec.include.map(globToRegExp);
  const exclude = (spec.exclude ?? []).map(globToRegExp);
  const found: Candidate[] = [];
  for (const file of walkFiles(extracted.root)) {
    const source = `/${path.relative(extracted.root, file).split(path.sep).join('/')}`;
    if (!IMAGE_EXTENSIONS.test(source)) continue;
    if (!include.some((re) => re.test(source)) || exclude.some((re) => re.test(source))) continue;
    found.push({ pkg: spec.pkg, version: extracted.version, source, file, spec });
  }
  return found.sort((a, b) => a.source.localeCompare(b.source));
}

// ---------------------------------------------------------------- pixels

/**
 * One decode gives everything the filters need: a 64×64 RGBA thumbnail for transparency, flatness
 * and backdrop, and a 9×8 grey thumbnail of it for the hash. EXIF rotation comes first so that a
 * rotated copy of a picture hashes like the upright one.
 */
async function analyse(file: string): Promise<Analysis> {
  const image = sharp(file, { failOn: 'none', limitInputPixels: 2 ** 28 }).rotate();
  const meta = await sharp(file, { failOn: 'none', limitInputPixels: 2 ** 28 }).metadata();
  const swap = (meta.orientation ?? 1) >= 5;
  const width = (swap ? meta.height : meta.width) ?? 0;
  const height = (swap ? meta.width : meta.height) ?? 0;
  const rgba = await image.resize(64, 64, { fit: 'fill' }).ensureAlpha().raw().toBuffer();
  const pixels = rgba.length / 4;
  let transparent = 0;
  const luma = new Float64Array(pixels);
  const flat = Buffer.alloc(pixels * 3);
  for (let i = 0; i < pixels; i++) {
    const a = rgba[i * 4 + 3]! / 255;
    if (a < 0.5) transparent++;
    for (let c = 0; c < 3; c++) flat[i * 3 + c] = Math.round(rgba[i * 4 + c]! * a + 255 * (1 - a));
    luma[i] = 0.299 * flat[i * 3]! + 0.587 * flat[i * 3 + 1]! + 0.114 * flat[i * 3 + 2]!;
  }
  const grey = await sharp(flat, { raw: { width: 64, height: 64, channels: 3 } })
    .greyscale()
    .resize(9, 8, { fit: 'fill' })
    .raw()
    .toBuffer();
  return {
    width,
    height,
    hash: differenceHash(grey),
    lumaStddev: stddev(luma),
    transparentShare: transparent / pixels,
    backdropShare: backdropShare(flat, 64),
  };
}

function stddev(values: Float64Array): number {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  return Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length);
}

/** Share of pixels close to the border colour, when the border is one colour; 0 otherwise. */
export function backdropShare(rgb: Uint8Array | Buffer, size: number): number {
  const border: number[] = [];
  for (let i = 0; i < size; i++) border.push(i, (size - 1) * size + i, i * size, i * size + size - 1);
  const mean = [0, 1, 2].map((c) => border.reduce((s, p) => s + rgb[p * 3 + c]!, 0) / border.length);
  const near = (p: number) => [0, 1, 2].every((c) => Math.abs(rgb[p * 3 + c]! - mean[c]!) <= 12);
  if (border.filter(near).length < border.length * 0.9) return 0;
  let count = 0;
  for (let p = 0; p < size * size; p++) if (near(p)) count++;
  return count / (size * size);
}

async function writeScaled(file: string, destination: string, analysis: Analysis): Promise<void> {
  const plan = scalePlan(analysis.width, analysis.height);
  let image = sharp(file, { failOn: 'none', limitInputPixels: 2 ** 28 }).rotate();
  if (plan.crop) image = sharp(await image.toBuffer()).extract(plan.crop);
  await image
    .flatten({ background: '#ffffff' })
    .resize(plan.width, plan.height, { fit: 'fill' })
    .toColourspace('srgb')
    .jpeg({ quality: JPEG_QUALITY })
    .toFile(destination);
}

// ---------------------------------------------------------------- caches

class AnalysisCache {
  private entries: Record<string, Analysis> = {};
  constructor(private readonly file: string) {
    if (fs.existsSync(file)) this.entries = JSON.parse(fs.readFileSync(file, 'utf8'));
  }
  static key(c: Candidate): string {
    return `${CACHE_FORMAT}\t${c.pkg}\t${c.version}\t${c.source}`;
  }
  async get(c: Candidate): Promise<Analysis> {
    const key = AnalysisCache.key(c);
    this.entries[key] ??= await analyse(c.file);
    return this.entries[key];
  }
  save(): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    fs.writeFileSync(this.file, JSON.stringify(this.entries));
  }
}

/** Scaled JPEGs are kept by source identity, so a re-run copies instead of decoding 5K wallpapers. */
async function scaledCopy(cache: string, c: Candidate, analysis: Analysis, destination: string): Promise<void> {
  const id = createHash('sha1').update(AnalysisCache.key(c)).digest('hex');
  const cached = path.join(cache, 'scaled', `${id}.jpg`);
  if (!fs.existsSync(cached)) {
    fs.mkdirSync(path.dirname(cached), { recursive: true });
    await writeScaled(c.file, `${cached}.tmp`, analysis);
    fs.renameSync(`${cached}.tmp`, cached);
  }
  fs.copyFileSync(cached, destination);
}

async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

// ---------------------------------------------------------------- selection

type SkipRule =
  | 'reserved-exact'
  | 'reserved-same-picture'
  | 'reserved-near-hash'
  | 'unreadable'
  | 'too-small'
  | 'transparent-cutout'
  | 'flat'
  | 'plain-backdrop'
  | 'smaller-variant'
  | 'near-duplicate'
  | 'over-package-cap';

interface Selected {
  c: Candidate;
  a: Analysis;
  pinned: boolean;
}

class SkipCounter {
  readonly counts = new Map<SkipRule, number>();
  add(rule: SkipRule): void {
    this.counts.set(rule, (this.counts.get(rule) ?? 0) + 1);
  }
}

function qualityRule(a: Analysis): SkipRule | null {
  if (Math.min(a.width, a.height) < MIN_SHORT_SIDE) return 'too-small';
  if (a.transparentShare > MAX_TRANSPARENT_SHARE) return 'transparent-cutout';
  if (a.lumaStddev < MIN_LUMA_STDDEV) return 'flat';
  if (a.backdropShare > MAX_BACKDROP_SHARE) return 'plain-backdrop';
  return null;
}

interface SampleIndex {
  paths: Set<string>;
  hashes: string[];
}

/**
 * Filters, dedups and caps one package's candidates. Within one picture key only the largest file
 * survives; the cap keeps the files with the lowest (salted) stable numbers, so which files a package
 * contributes is as fixed as the split. Cross-package duplicates are dropped against `seen`.
 */
async function selectFromPackage(
  candidates: Candidate[],
  analyses: AnalysisCache,
  reserved: { entries: ReservedEntry[]; hashes: string[] },
  sample: SampleIndex,
  seen: string[],
  cap: number,
  skips: SkipCounter,
): Promise<Selected[]> {
  const allowed = candidates.filter((c) => {
    const rule = reservedRule(c.pkg, c.source, reserved.entries);
    if (rule) skips.add(rule);
    return !rule;
  });
  const analysed = await mapLimit(allowed, 2, async (c) => {
    try {
      return { c, a: await analyses.get(c) };
    } catch {
      skips.add('unreadable');
      return null;
    }
  });
  const good: Selected[] = [];
  for (const item of analysed) {
    if (!item) continue;
    const rule = qualityRule(item.a) ?? (isNearHash(item.a.hash, reserved.hashes, RESERVED_DISTANCE) ? 'reserved-near-hash' : null);
    if (rule) skips.add(rule);
    else {
      const pinned = sample.paths.has(`${item.c.pkg}\t${item.c.source}`) || isNearHash(item.a.hash, sample.hashes, DUPLICATE_DISTANCE);
      good.push({ ...item, pinned });
    }
  }
  const largestPerPicture = new Map<string, Selected>();
  for (const item of good) {
    const key = pictureKey(item.c.pkg, item.c.source);
    const current = largestPerPicture.get(key);
    if (!current) largestPerPicture.set(key, item);
    else {
      skips.add('smaller-variant');
      if (item.a.width * item.a.height > current.a.width * current.a.height) largestPerPicture.set(key, item);
    }
  }
  // Salted so the capped subset is not the low end of the split's numbers, which would fill held-out.
  const capOrder = (x: Selected) => stableUnit(x.c.pkg, `cap\t${x.c.source}`);
  const ordered = [...largestPerPicture.values()].sort((x, y) => capOrder(x) - capOrder(y));
  const kept: Selected[] = [];
  const perSource = new Map<TrainingSource, number>();
  for (const item of ordered) {
    const fromSource = perSource.get(item.c.spec) ?? 0;
    if (isNearHash(item.a.hash, seen, DUPLICATE_DISTANCE)) skips.add('near-duplicate');
    else if (kept.length >= cap || fromSource >= (item.c.spec.max ?? Infinity)) skips.add('over-package-cap');
    else {
      perSource.set(item.c.spec, fromSource + 1);
      kept.push(item);
      seen.push(item.a.hash);
    }
  }
  return kept;
}

// ---------------------------------------------------------------- main

function loadSample(): SampleIndex & { files: string[] } {
  const manifestFile = path.join(REPO_ROOT, 'datasets', 'sample', 'manifest.json');
  const entries = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as {
    file: string;
    debianPackage: string;
    source: string;
  }[];
  return {
    paths: new Set(entries.map((e) => `${e.debianPackage}\t${e.source}`)),
    hashes: [],
    files: entries.map((e) => path.join(path.dirname(manifestFile), e.file)),
  };
}

async function hashOf(file: string): Promise<string> {
  return (await analyse(file)).hash;
}

async function reservedHashes(opts: BuildOptions, entries: ReservedEntry[]): Promise<string[]> {
  const hashes: string[] = [];
  for (const pkg of [...new Set(entries.map((e) => e.pkg))]) {
    const { root } = extractPackage(opts.cache, pkg);
    for (const e of entries.filter((r) => r.pkg === pkg)) {
      const file = path.join(root, e.source);
      if (!fs.existsSync(file)) throw new Error(`reserved image ${pkg} ${e.source} is not in the package`);
      hashes.push(await hashOf(file));
    }
  }
  return hashes;
}

function prepareOutput(out: string): void {
  for (const split of ['train', 'heldout']) {
    for (const role of ['content', 'style']) {
      const dir = path.join(out, split, role);
      fs.mkdirSync(dir, { recursive: true });
      for (const f of fs.readdirSync(dir)) if (f.endsWith('.jpg')) fs.rmSync(path.join(dir, f));
    }
  }
}

function countBy(entries: ManifestEntry[], key: (e: ManifestEntry) => string): [string, number][] {
  const counts = new Map<string, number>();
  for (const e of entries) counts.set(key(e), (counts.get(key(e)) ?? 0) + 1);
  return [...counts.entries()].sort((a, b) => a[0].localeCompare(b[0]));
}

function table(header: string, rows: [string, number][]): string {
  return [`| ${header} | images |`, '| --- | ---: |', ...rows.map(([k, n]) => `| ${k} | ${n} |`)].join('\n');
}

function readme(entries: ManifestEntry[], skips: SkipCounter, opts: BuildOptions): string {
  const licences = countBy(entries, (e) => `${e.debianPackage}: ${e.licence}`).map(([k]) => `- ${k}`);
  return `# Wide training set

Built by \`datasets/build-training-set.ts\` from the Debian packages listed in
\`datasets/training-sources.ts\`. The repo keeps the builder and \`manifest.json\`; the images are not
committed. To rebuild them (about a few minutes uncached, seconds cached; needs \`apt-get\` and \`dpkg-deb\`):

\`\`\`sh
apt-get update   # once, if apt-get download cannot find a package
npx tsx datasets/build-training-set.ts --out ~/peerstyle-data/wide
\`\`\`

Each image is a JPEG (quality ${JPEG_QUALITY}, sRGB, EXIF orientation applied, alpha flattened on white), centre-cropped
to at most 2:1 and shrunk (never enlarged) to a short side of ${TARGET_SHORT_SIDE} px. Images with a short side under
${MIN_SHORT_SIDE} px, cut-out sprites, flat fills, objects on plain backdrops and near-duplicates (64-bit difference
hash within ${DUPLICATE_DISTANCE} bits; only the largest file of one wallpaper folder or resolution family) are skipped.
At most ${opts.maxPerPackage} images come from one source package.

## Reserved images

\`shared/datasets/reserved.txt\` lists images kept for independent evaluation. The builder never uses them:
it skips the exact package and path, every other file of the same picture (same wallpaper folder, or the
same name up to resolution and light/dark suffixes), and any image whose hash is within ${RESERVED_DISTANCE} bits of
a reserved image's hash.

## Split

Deterministic: each image's split comes from SHA-256 of \`package<TAB>path\`. An image whose number falls
below the held-out share (${opts.heldoutShare}) is held out; a (role, kind, package) group large enough to expect a
held-out image but drawing none gives up its lowest-numbered image, so held-out styles cover every kind.
Images that are the same picture as one in \`datasets/sample\` always stay in train. Style folders are flat:
every style image is its own class.

## Counts

${table('split / role', countBy(entries, (e) => `${e.split} / ${e.role}`))}

${table('role / kind', countBy(entries, (e) => `${e.role} / ${e.kind}`))}

${table('role / package', countBy(entries, (e) => `${e.role} / ${e.debianPackage}`))}

Skipped candidates by rule:

${table('rule', [...skips.counts.entries()].sort((a, b) => a[0].localeCompare(b[0])))}

## Licences

Summarised from each package's \`/usr/share/doc/<package>/copyright\`; check there before redistributing.

${licences.join('\n')}
`;
}

export async function build(opts: BuildOptions): Promise<{ entries: ManifestEntry[]; skips: SkipCounter }> {
  const reservedEntries = parseReserved(fs.readFileSync(opts.reserved, 'utf8'));
  const reserved = { entries: reservedEntries, hashes: await reservedHashes(opts, reservedEntries) };
  const sampleIndex = loadSample();
  sampleIndex.hashes = await Promise.all(sampleIndex.files.filter((f) => fs.existsSync(f)).map(hashOf));
  const analyses = new AnalysisCache(path.join(opts.cache, 'analysis.json'));
  const skips = new SkipCounter();
  const seen: string[] = [];
  const selected: Selected[] = [];
  try {
    for (const pkg of [...new Set(TRAINING_SOURCES.map((s) => s.pkg))]) {
      const extracted = extractPackage(opts.cache, pkg);
      const candidates = TRAINING_SOURCES.filter((s) => s.pkg === pkg).flatMap((s) => listCandidates(s, extracted));
      const unique = [...new Map(candidates.map((c) => [c.source, c])).values()];
      const kept = await selectFromPackage(unique, analyses, reserved, sampleIndex, seen, opts.maxPerPackage, skips);
      process.stderr.write(`${pkg}: ${unique.length} candidates, ${kept.length} kept\n`);
      selected.push(...kept);
    }
  } finally {
    analyses.save();
  }
  const entries = await writeAll(selected, opts);
  return { entries, skips };
}

async function writeAll(selected: Selected[], opts: BuildOptions): Promise<ManifestEntry[]> {
  const heldout = chooseHeldout(
    selected.map((s) => ({ pkg: s.c.pkg, source: s.c.source, group: `${s.c.spec.role}\t${s.c.spec.kind}\t${s.c.pkg}`, pinned: s.pinned, s })),
    opts.heldoutShare,
  );
  const heldoutSet = new Set([...heldout].map((h) => h.s));
  prepareOutput(opts.out);
  const taken = new Set<string>();
  const jobs = selected.map((s) => {
    const split: ManifestEntry['split'] = heldoutSet.has(s) ? 'heldout' : 'train';
    const file = path.posix.join(split, s.c.spec.role, uniqueName(outputStem(s.c.spec.short, s.c.source), taken));
    return { s, split, file };
  });
  const entries = await mapLimit(jobs, 2, async ({ s, split, file }) => {
    await scaledCopy(opts.cache, s.c, s.a, path.join(opts.out, file));
    const plan = scalePlan(s.a.width, s.a.height);
    return {
      file,
      split,
      role: s.c.spec.role,
      debianPackage: s.c.pkg,
      packageVersion: s.c.version,
      source: s.c.source,
      licence: s.c.spec.licence,
      kind: s.c.spec.kind,
      width: plan.width,
      height: plan.height,
    } satisfies ManifestEntry;
  });
  return entries.sort((a, b) => a.file.localeCompare(b.file));
}

async function main(): Promise<void> {
  const started = Date.now();
  const opts = parseArgs(process.argv.slice(2));
  const { entries, skips } = await build(opts);
  const manifest = `${JSON.stringify(entries, null, 1)}\n`;
  fs.writeFileSync(path.join(opts.out, 'manifest.json'), manifest);
  const repoDir = path.join(REPO_ROOT, 'datasets', 'wide');
  fs.mkdirSync(repoDir, { recursive: true });
  fs.writeFileSync(path.join(repoDir, 'manifest.json'), manifest);
  fs.writeFileSync(path.join(repoDir, 'README.md'), readme(entries, skips, opts));
  for (const [key, n] of countBy(entries, (e) => `${e.split}/${e.role}`)) process.stdout.write(`${key}: ${n}\n`);
  for (const [rule, n] of skips.counts) process.stdout.write(`skipped ${rule}: ${n}\n`);
  process.stdout.write(`done in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    process.stderr.write(`build-training-set: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exit(1);
  });
}
