/**
 * Offline checks of the wide training-set builder's pure rules: which files a reservation keeps out,
 * when two images count as one picture, how the split is drawn and how images are sized. Nothing
 * here calls apt or reads a Debian package; the pictures are made on the fly with sharp.
 */
import sharp from 'sharp';
import {
  chooseHeldout,
  differenceHash,
  globToRegExp,
  hammingDistance,
  isNearHash,
  outputStem,
  parseArgs,
  parseReserved,
  pictureKey,
  reservedRule,
  scalePlan,
  stableUnit,
  uniqueName,
} from '../../datasets/build-training-set';

const WALL = '/usr/share/wallpapers';
type Image = ReturnType<typeof sharp>;

describe('reserved images', () => {
  const reserved = parseReserved(
    ['# comment', '', `plasma-workspace-wallpapers\t${WALL}/Altai/contents/images/5120x2880.png`, 'mate-backgrounds\t/usr/share/backgrounds/mate/nature/Dune.jpg'].join('\n'),
  );

  it('parses package<TAB>path lines and ignores comments', () => {
    expect(reserved).toHaveLength(2);
    expect(reserved[1]).toEqual({ pkg: 'mate-backgrounds', source: '/usr/share/backgrounds/mate/nature/Dune.jpg' });
  });

  it('rejects a line without a tab', () => {
    expect(() => parseReserved('mate-backgrounds /x.jpg')).toThrow(/line 1/);
  });

  it('skips the exact file', () => {
    expect(reservedRule('plasma-workspace-wallpapers', `${WALL}/Altai/contents/images/5120x2880.png`, reserved)).toBe('reserved-exact');
  });

  it('skips other resolutions and the dark variant of a reserved wallpaper', () => {
    for (const other of ['images/1080x1920.png', 'images_dark/5120x2880.png']) {
      expect(reservedRule('plasma-workspace-wallpapers', `${WALL}/Altai/contents/${other}`, reserved)).toBe('reserved-same-picture');
    }
  });

  it('keeps other wallpapers and the same path in another package', () => {
    expect(reservedRule('plasma-workspace-wallpapers', `${WALL}/Path/contents/images/2560x1600.jpg`, reserved)).toBeNull();
    expect(reservedRule('other-package', `${WALL}/Altai/contents/images/5120x2880.png`, reserved)).toBeNull();
    expect(reservedRule('mate-backgrounds', '/usr/share/backgrounds/mate/nature/Aqua.jpg', reserved)).toBeNull();
  });

  it('treats resolution and light/dark suffixes in file names as one picture', () => {
    const key = pictureKey('mate-backgrounds', '/usr/share/backgrounds/mate/abstract/Elephants.jpg');
    expect(pictureKey('mate-backgrounds', '/usr/share/backgrounds/mate/abstract/Elephants_3840x2160.jpg')).toBe(key);
    expect(pictureKey('gnome-backgrounds', '/b/adwaita-l.webp')).toBe(pictureKey('gnome-backgrounds', '/b/adwaita-d.webp'));
    expect(pictureKey('gnome-backgrounds', '/b/adwaita-l.webp')).not.toBe(pictureKey('gnome-backgrounds', '/b/grid-l.webp'));
  });
});

describe('perceptual hash', () => {
  async function hashOf(image: Image): Promise<string> {
    const grey = await image.greyscale().resize(9, 8, { fit: 'fill' }).raw().toBuffer();
    return differenceHash(grey);
  }

  /** A smooth diagonal gradient with a dark disc: structure a difference hash can see. */
  function scene(width: number, height: number, discX: number): Image {
    const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
      <defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1"><stop offset="0" stop-color="#fff"/><stop offset="1" stop-color="#236"/></linearGradient></defs>
      <rect width="100%" height="100%" fill="url(#g)"/>
      <circle cx="${discX * width}" cy="${0.5 * height}" r="${0.2 * height}" fill="#111"/></svg>`;
    return sharp(Buffer.from(svg));
  }

  it('gives the same picture at two sizes nearly the same hash', async () => {
    const large = await hashOf(scene(400, 300, 0.3));
    const small = await hashOf(scene(120, 90, 0.3));
    expect(hammingDistance(large, small)).toBeLessThanOrEqual(5);
    expect(isNearHash(small, [large], 5)).toBe(true);
  });

  it('tells different pictures apart', async () => {
    const left = await hashOf(scene(400, 300, 0.25));
    const right = await hashOf(scene(400, 300, 0.8).flop());
    expect(isNearHash(left, [right], 5)).toBe(false);
  });

  it('counts differing bits', () => {
    expect(hammingDistance('0000000000000000', 'ffffffffffffffff')).toBe(64);
    expect(hammingDistance('00000000000000f0', '0000000000000000')).toBe(4);
  });

  it('needs a 9×8 thumbnail', () => {
    expect(() => differenceHash(new Uint8Array(64))).toThrow(/72/);
  });
});

describe('split', () => {
  const items = Array.from({ length: 200 }, (_, i) => ({
    pkg: i < 150 ? 'big-package' : 'small-package',
    source: `/img/${i}.jpg`,
    group: i < 150 ? 'style\tpainting\tbig-package' : 'style\ttexture\tsmall-package',
    pinned: i === 3,
  }));

  it('is a fixed function of package and path', () => {
    expect(stableUnit('p', '/a.jpg')).toBe(stableUnit('p', '/a.jpg'));
    expect(stableUnit('p', '/a.jpg')).not.toBe(stableUnit('q', '/a.jpg'));
    const first = [...chooseHeldout(items, 0.15)].map((i) => i.source).sort();
    const again = [...chooseHeldout([...items].reverse(), 0.15)].map((i) => i.source).sort();
    expect(again).toEqual(first);
  });

  it('holds out about the share and never a pinned sample image', () => {
    const heldout = chooseHeldout(items, 0.15);
    expect(heldout.size).toBeGreaterThan(15);
    expect(heldout.size).toBeLessThan(50);
    expect([...heldout].some((i) => i.pinned)).toBe(false);
  });

  it('gives every group large enough one held-out image', () => {
    const group = Array.from({ length: 30 }, (_, i) => ({ pkg: 'p', source: `/g/${i}`, group: 'g', pinned: false }));
    const unlucky = group.filter((g) => stableUnit(g.pkg, g.source) >= 0.15);
    expect(chooseHeldout(unlucky, 0.15).size).toBeGreaterThanOrEqual(1);
  });
});

describe('scale rule', () => {
  it('shrinks the short side to 256 and keeps the aspect ratio', () => {
    expect(scalePlan(1024, 768)).toEqual({ crop: null, width: 341, height: 256 });
    expect(scalePlan(600, 900)).toEqual({ crop: null, width: 256, height: 384 });
  });

  it('never enlarges', () => {
    expect(scalePlan(240, 220)).toEqual({ crop: null, width: 240, height: 220 });
  });

  it('centre-crops the long side beyond 2:1', () => {
    expect(scalePlan(3000, 1000)).toEqual({ crop: { left: 500, top: 0, width: 2000, height: 1000 }, width: 512, height: 256 });
    expect(scalePlan(300, 900)).toEqual({ crop: { left: 0, top: 150, width: 300, height: 600 }, width: 256, height: 512 });
  });
});

describe('names and options', () => {
  it('names wallpaper bundles by folder, in kebab case, uniquely', () => {
    expect(outputStem('plasma', `${WALL}/BytheWater/contents/images/2560x1600.jpg`)).toBe('plasma-bythe-water');
    expect(outputStem('es', '/x/land/Snow Field_2.jpg')).toBe('es-snow-field-2');
    const taken = new Set<string>();
    expect(uniqueName('a-b', taken)).toBe('a-b.jpg');
    expect(uniqueName('a-b', taken)).toBe('a-b-2.jpg');
  });

  it('matches globs with *, ** and braces', () => {
    expect(globToRegExp('/a/*/c/*.png').test('/a/b/c/d.png')).toBe(true);
    expect(globToRegExp('/a/*/c/*.png').test('/a/b/x/c/d.png')).toBe(false);
    expect(globToRegExp('/a/**/d.png').test('/a/b/x/c/d.png')).toBe(true);
    expect(globToRegExp('/a/{x,y}.*').test('/a/y.jpg')).toBe(true);
    expect(globToRegExp('/a/{x,y}.*').test('/a/z.jpg')).toBe(false);
  });

  it('requires --out and checks numbers', () => {
    expect(() => parseArgs([])).toThrow('--out is required');
    expect(() => parseArgs(['--out', '/tmp/x', '--heldout-share', '2'])).toThrow(/heldout-share/);
    expect(() => parseArgs(['--bogus', '1'])).toThrow('unknown option --bogus');
    const opts = parseArgs(['--out', '/tmp/x']);
    expect(opts.heldoutShare).toBe(0.15);
    expect(opts.reserved.endsWith('/shared/datasets/reserved.txt')).toBe(true);
  });
});
