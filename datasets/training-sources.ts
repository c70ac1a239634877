/**
 * Where the wide training set's pictures come from: Debian packages that ship paintings, game art,
 * textures and photographs. Each row names a package, the paths inside it worth taking (shell-style
 * globs over the unpacked tree), the role the pictures play, their licence as summarised from the
 * package's /usr/share/doc/<package>/copyright, and a kind label that the held-out split stratifies
 * on. Paths are narrow on purpose: icons, UI, screenshots and sprite sheets live beside the art in
 * most of these packages, and the pixel filters in the builder only catch part of them.
 */

export type Role = 'content' | 'style';

export interface TrainingSource {
  pkg: string;
  /** Prefix for output file names, short enough to keep names readable. */
  short: string;
  include: string[];
  exclude?: string[];
  role: Role;
  licence: string;
  kind: string;
  /** Tighter cap than the per-package one, for a source that would crowd out others. */
  max?: number;
}

const PLASMA = '/usr/share/wallpapers';
/** Plasma wallpaper folders that hold photographs; the rest are rendered or drawn art. */
const PLASMA_PHOTOS = ['Altai', 'Autumn', 'BytheWater', 'Canopee', 'ColorfulCups', 'EveningGlow', 'FallenLeaf', 'MilkyWay', 'OneStandsOut', 'Path'];
const PLASMA_ART = ['Cascade', 'Cluster', 'ColdRipple', 'DarkestHour', 'Elarun', 'Flow', 'FlyingKonqui', 'Grey', 'Honeywave', 'IceCold', 'Kay', 'Kite', 'Kokkini', 'Opal', 'PastelHills', 'Patak', 'SafeLanding', 'Shell', 'Volna', 'summer_1am'];
const plasmaImages = (names: string[]) => names.map((n) => `${PLASMA}/${n}/contents/images*/*`);
const SKIMAGE = '/usr/lib/python3/dist-packages/skimage/data';
const OPENCV = '/usr/share/doc/opencv-doc/examples';
const LOMIRI = 'CC-BY-4.0, CC-BY-SA-3.0/4.0 or CC0-1.0 (per file)';

export const TRAINING_SOURCES: readonly TrainingSource[] = [
  // ---------------------------------------------------------------- content: photographs
  {
    pkg: 'endless-sky-data',
    short: 'es',
    include: ['/usr/share/games/endless-sky/images/land/*'],
    role: 'content',
    licence: 'public domain (morgueFile) or CC-BY-SA-3.0/4.0 (per file)',
    kind: 'photo',
  },
  {
    pkg: 'plasma-workspace-wallpapers',
    short: 'plasma',
    include: plasmaImages(PLASMA_PHOTOS),
    role: 'content',
    licence: 'GPL-2+',
    kind: 'photo',
  },
  {
    pkg: 'lomiri-wallpapers-16.04',
    short: 'lomiri16',
    include: ['/usr/share/backgrounds/*'],
    role: 'content',
    licence: LOMIRI,
    kind: 'photo',
  },
  {
    pkg: 'lomiri-wallpapers-20.04',
    short: 'lomiri20',
    include: ['/usr/share/backgrounds/*'],
    exclude: ['/usr/share/backgrounds/Painting-Colors*'],
    role: 'content',
    licence: LOMIRI,
    kind: 'photo',
  },
  {
    pkg: 'mate-backgrounds',
    short: 'mate',
    include: ['/usr/share/backgrounds/mate/nature/*'],
    role: 'content',
    licence: 'GPL-2+',
    kind: 'photo',
  },
  {
    pkg: 'python3-skimage',
    short: 'skimage',
    include: [`${SKIMAGE}/*`],
    // Synthetic test charts, silhouettes and scans of text rather than photographs.
    exclude: [`${SKIMAGE}/{text,horse,logo,page,checker_bilevel,color,brick,grass,gravel,rough-wall,microaneurysms,chessboard_GRAY,chessboard_RGB,cell,cells3d,lbp_frontal_face,phantom,motorcycle_disp,motorcycle_left,motorcycle_right,moon,hubble_deep_field,kidney,lily}.*`],
    role: 'content',
    licence: 'CC0-1.0 or public domain (per file)',
    kind: 'photo',
  },
  {
    pkg: 'opencv-doc',
    short: 'opencv',
    include: [`${OPENCV}/data/*.jpg`, `${OPENCV}/data/*.png`, `${OPENCV}/hfs/data/*`, `${OPENCV}/alphamat/input_images/*`],
    // Logos, charts, calibration boards, digits and the one painting (used as style below).
    exclude: [
      `${OPENCV}/data/{LinuxLogo,WindowsLogo,opencv-logo,opencv-logo-white,starry_night,chessboard,pic1,pic2,pic3,pic4,pic5,pic6,digits,notes,imageTextN,imageTextR,text_defect,text_motion,ela_modified,ela_original,smarties,board,graf1,graf3,left*,right*,Blender_Suzanne*,box,box_in_scene,detect_blob,gradient,HappyFish,stuff,text_defocus,aloeGT,blox,ellipses,pca_test1,sudoku}.*`,
    ],
    role: 'content',
    licence: 'BSD-3-Clause (OpenCV sample data; some images of unclear origin)',
    kind: 'photo',
  },
  {
    pkg: 'palapeli-data',
    short: 'palapeli',
    include: ['/usr/share/palapeli/collection/*'],
    role: 'content',
    licence: 'public domain or CC-BY-SA (per puzzle, see .desktop files)',
    kind: 'photo',
  },
  {
    pkg: 'tuxpaint-data',
    short: 'tuxpaint',
    include: ['/usr/share/tuxpaint/templates/*.jpg'],
    role: 'content',
    licence: 'GPL-2+',
    kind: 'photo',
  },
  {
    pkg: 'lxqt-themes',
    short: 'lxqt',
    // The photographs only: the other wallpapers carry desktop or distribution logos.
    include: ['/usr/share/lxqt/wallpapers/{after-the-rain,appleflower,Butterfly-Kenneth-Wimer,butterfly,drop,flowers,fog,Valendas}.*'],
    role: 'content',
    licence: 'LGPL-2.1+ or CC-BY-SA-3.0 (per file)',
    kind: 'photo',
  },
  // ---------------------------------------------------------------- style: paintings, illustrations, game art
  {
    pkg: 'wesnoth-1.16-data',
    short: 'wesnoth',
    include: ['/usr/share/games/wesnoth/1.16/data/core/images/story/*'],
    role: 'style',
    licence: 'GPL-2+',
    kind: 'painting',
  },
  {
    pkg: 'opencv-doc',
    short: 'opencv',
    include: [`${OPENCV}/data/starry_night.jpg`],
    role: 'style',
    licence: 'public domain (van Gogh, 1889)',
    kind: 'painting',
  },
  {
    pkg: 'lomiri-wallpapers-20.04',
    short: 'lomiri20',
    include: ['/usr/share/backgrounds/Painting-Colors*'],
    role: 'style',
    licence: 'CC-BY-SA-3.0',
    kind: 'painting',
  },
  {
    pkg: 'stellarium-data',
    short: 'stellarium',
    include: ['/usr/share/stellarium/skycultures/*/*.png', '/usr/share/stellarium/skycultures/*/*.jpg'],
    // Maps and star charts rather than art.
    exclude: ['/usr/share/stellarium/skycultures/*/{arabian_peninsula,chart}.*'],
    role: 'style',
    licence: 'GPL-2+ (sky-culture art; some scans of historical works)',
    kind: 'illustration',
  },
  {
    pkg: 'endless-sky-data',
    short: 'es',
    include: ['/usr/share/games/endless-sky/images/scene/*'],
    role: 'style',
    licence: 'CC-BY-SA-4.0',
    kind: 'game art',
  },
  {
    pkg: 'naev-data',
    short: 'naev',
    include: ['/usr/share/naev/dat/gfx/planet/exterior/*'],
    role: 'style',
    licence: 'GPL-2+, CC-BY-SA-3.0 or public domain (per file)',
    kind: 'game art',
  },
  {
    pkg: 'freedroidrpg-data',
    short: 'freedroid',
    // Only the painted scenes: the other backgrounds are UI panels.
    include: ['/usr/share/freedroidrpg/data/graphics/backgrounds/{title,title_wide,startup1,credits,credits_wide,shoppe}.jpg'],
    role: 'style',
    licence: 'GPL-2+',
    kind: 'game art',
  },
  {
    pkg: 'plasma-workspace-wallpapers',
    short: 'plasma',
    include: plasmaImages(PLASMA_ART),
    role: 'style',
    licence: 'GPL-2+',
    kind: 'illustration',
  },
  {
    pkg: 'gnome-backgrounds',
    short: 'gnome',
    include: ['/usr/share/backgrounds/gnome/*'],
    role: 'style',
    licence: 'CC-BY-SA-3.0',
    kind: 'illustration',
  },
  {
    pkg: 'mate-backgrounds',
    short: 'mate',
    include: ['/usr/share/backgrounds/mate/abstract/*', '/usr/share/backgrounds/mate/desktop/*'],
    role: 'style',
    licence: 'GPL-2+ or CC-BY-SA-4.0 (per file)',
    kind: 'pattern',
  },
  {
    pkg: 'ukui-wallpapers',
    short: 'ukui',
    include: ['/usr/share/backgrounds/*'],
    role: 'style',
    licence: 'CC-BY-SA-3.0',
    kind: 'illustration',
  },
  // ---------------------------------------------------------------- style: textures and patterns
  {
    pkg: 'krita-data',
    short: 'krita',
    include: ['/usr/share/krita/patterns/*'],
    role: 'style',
    licence: 'GPL-2+ or CC0/public domain (per file)',
    kind: 'texture',
  },
  {
    pkg: 'mypaint-data-extras',
    short: 'mypaint',
    include: ['/usr/share/mypaint/backgrounds/*/*'],
    role: 'style',
    licence: 'CC0-1.0, public domain or GPL-2+ (per file)',
    kind: 'texture',
  },
  {
    pkg: 'megaglest-data',
    short: 'megaglest',
    include: ['/usr/share/games/megaglest/tilesets/*/textures/*'],
    role: 'style',
    licence: 'CC-BY-SA-3.0',
    kind: 'texture',
  },
  {
    pkg: 'openclipart-png',
    short: 'clipart',
    include: ['/usr/share/openclipart/png/special/patterns/*'],
    role: 'style',
    licence: 'public domain',
    kind: 'pattern',
  },
];
