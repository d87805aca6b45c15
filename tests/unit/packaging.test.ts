/**
 * electron-builder.yml, checked against the files it names. electron-builder itself cannot run here
 * (it downloads Electron, and rebuilds node_modules for Electron's ABI in place), so this test
 * checks what a packaging run would depend on: the configuration is valid for the installed
 * electron-builder, what it packs is what electron-vite builds, every native addon a production
 * dependency installs is unpacked from the asar with the libraries it loads, the icons and the
 * demo model exist where they are named, and the file association is the extension the app uses.
 */
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp from 'sharp';
import type { Configuration, FileSet } from 'electron-builder';
import { beforeAll, describe, expect, it } from 'vitest';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const repoPath = (...parts: string[]): string => path.join(REPO, ...parts);
/** A repository path as electron-builder's patterns see it: relative, with forward slashes. */
const posix = (file: string): string => path.relative(REPO, file).split(path.sep).join('/');

// electron-builder's own YAML reader, pattern matcher and schema check: direct dependencies of
// electron-builder (a devDependency), resolved from it so they are the very ones it runs with.
const fromBuilder = createRequire(
  createRequire(import.meta.url).resolve('app-builder-lib/package.json', {
    paths: [path.dirname(createRequire(import.meta.url).resolve('electron-builder/package.json'))],
  }),
);
const yaml = fromBuilder('js-yaml') as { load(text: string): unknown };
const { Minimatch } = fromBuilder('minimatch') as {
  Minimatch: new (pattern: string, options: { dot: boolean }) => { match(file: string): boolean };
};
const { validateConfiguration } = fromBuilder('app-builder-lib/out/util/config/config.js') as {
  validateConfiguration(config: Configuration, logger: unknown): Promise<void>;
};
const { DebugLogger } = fromBuilder('builder-util') as {
  DebugLogger: new (on: boolean) => unknown;
};

const config = yaml.load(
  fs.readFileSync(repoPath('electron-builder.yml'), 'utf8'),
) as Configuration;
const pkg = JSON.parse(fs.readFileSync(repoPath('package.json'), 'utf8')) as {
  name: string;
  productName?: string;
  main: string;
  type?: string;
  homepage?: string;
  author?: string | { name?: string; email?: string };
  scripts?: Record<string, string>;
  dependencies?: Record<string, string>;
};

/** File patterns as electron-builder reads them: `${platform}` is the building machine's. */
const expand = (pattern: string): string =>
  pattern.replaceAll('${platform}', process.platform).replace(/^\.\//, '');
const matcher = (pattern: string) => new Minimatch(expand(pattern), { dot: true });

function asList<T>(value: T | T[] | null | undefined): T[] {
  if (value === null || value === undefined) return [];
  return Array.isArray(value) ? value : [value];
}

/** The top-level `files` as plain patterns (this project uses no FileSet objects there). */
function filePatterns(): string[] {
  const patterns = asList(config.files as string | FileSet | (string | FileSet)[]);
  for (const pattern of patterns) expect(typeof pattern, JSON.stringify(pattern)).toBe('string');
  return patterns as string[];
}

/**
 * Whether electron-builder would copy a repository file into the app: the last pattern that
 * matches decides. Production node_modules are added whole, less the exclusions.
 */
function packed(relative: string): boolean {
  const patterns = relative.startsWith('node_modules/')
    ? ['**/*', ...filePatterns()]
    : filePatterns();
  let included = false;
  for (const pattern of patterns) {
    const negated = pattern.startsWith('!');
    if (negated === included && matcher(negated ? pattern.slice(1) : pattern).match(relative)) {
      included = !negated;
    }
  }
  return included;
}

/**
 * Production node_modules, as electron-builder collects them: the closure of package.json's
 * dependencies and their dependencies (optional ones where installed). devDependencies never ship.
 */
function productionPackages(): string[] {
  const found = new Set<string>();
  const resolveFrom = (name: string, from: string): string | undefined => {
    for (let dir = from; ; dir = path.dirname(dir)) {
      const candidate = path.join(dir, 'node_modules', name);
      if (fs.existsSync(path.join(candidate, 'package.json'))) return fs.realpathSync(candidate);
      if (dir === REPO || dir === path.dirname(dir)) return undefined;
    }
  };
  const visit = (dir: string): void => {
    if (found.has(dir)) return;
    found.add(dir);
    const meta = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as {
      dependencies?: Record<string, string>;
      optionalDependencies?: Record<string, string>;
    };
    for (const name of Object.keys(meta.dependencies ?? {})) {
      const installed = resolveFrom(name, dir);
      expect(installed, `${posix(dir)} needs ${name}, which is not installed`).toBeDefined();
      visit(installed!);
    }
    for (const name of Object.keys(meta.optionalDependencies ?? {})) {
      const installed = resolveFrom(name, dir);
      if (installed) visit(installed);
    }
  };
  for (const name of Object.keys(pkg.dependencies ?? {})) {
    const installed = resolveFrom(name, REPO);
    expect(installed, `dependency ${name} is not installed: run npm ci`).toBeDefined();
    visit(installed!);
  }
  return [...found];
}

/** Every file of a package, without descending into its own node_modules (packages of their own). */
function packageFiles(dir: string): string[] {
  const files: string[] = [];
  const walk = (current: string): void => {
    for (const entry of fs.readdirSync(current, { withFileTypes: true })) {
      if (entry.name === 'node_modules') continue;
      const full = path.join(current, entry.name);
      if (entry.isDirectory()) walk(full);
      else files.push(full);
    }
  };
  walk(dir);
  return files;
}

/** A Node addon, or a shared library that an addon loads by a path relative to itself. */
const NATIVE = /\.node$|\.so(\.\d+)*$|\.dylib$|\.dll$/;

interface ViteBuild {
  outDir?: string;
  lib?: { entry?: string | string[] | Record<string, string>; formats?: string[] };
  rollupOptions?: { input?: string | string[] | Record<string, string>; output?: unknown };
}
type ElectronViteConfig = Record<
  'main' | 'preload' | 'renderer',
  { build?: ViteBuild } | undefined
>;

async function electronViteConfig(): Promise<ElectronViteConfig> {
  const { default: exported } = await import('../../electron.vite.config');
  const value: unknown =
    typeof exported === 'function'
      ? await (exported as (env: unknown) => unknown)({ command: 'build', mode: 'production' })
      : await exported;
  return value as ElectronViteConfig;
}

/** Output file name stem → source, for a Vite lib entry. */
function entries(
  entry: string | string[] | Record<string, string> | undefined,
): Map<string, string> {
  if (entry === undefined) return new Map<string, string>();
  if (typeof entry === 'string') return new Map([[path.parse(entry).name, entry]]);
  if (Array.isArray(entry)) return new Map(entry.map((file) => [path.parse(file).name, file]));
  return new Map(Object.entries(entry));
}

describe('electron-builder.yml', () => {
  it('is a valid configuration for the installed electron-builder', async () => {
    // A misspelled key or a wrong type fails here, as it would fail `electron-builder`.
    await expect(
      validateConfiguration(structuredClone(config), new DebugLogger(false)),
    ).resolves.toBeUndefined();
  });

  it('names the app as package.json does', () => {
    expect(config.appId).toMatch(/^[a-z][a-z0-9-]*(\.[a-z][a-z0-9-]*)+$/);
    expect(config.productName).toBe(pkg.productName);
  });

  it('builds installers for Linux (AppImage, deb), Windows (NSIS) and macOS (dmg)', () => {
    const targets = (platform: 'linux' | 'win' | 'mac'): string[] =>
      asList(config[platform]?.target as unknown as (string | { target: string })[]).map((t) =>
        typeof t === 'string' ? t : t.target,
      );
    expect(targets('linux')).toEqual(expect.arrayContaining(['AppImage', 'deb']));
    expect(targets('win')).toContain('nsis');
    expect(targets('mac')).toContain('dmg');
  });

  it('ships onnxruntime-node binaries for every architecture it targets', () => {
    const bin = repoPath('node_modules', 'onnxruntime-node', 'bin', 'napi-v6');
    for (const [platform, os] of [
      ['win', 'win32'],
      ['mac', 'darwin'],
    ] as const) {
      for (const target of asList(
        config[platform]?.target as unknown as ({ arch?: string[] } | string)[],
      )) {
        const archs = typeof target === 'string' ? ['x64'] : asList(target.arch ?? ['x64']);
        for (const arch of archs) {
          expect(
            fs.existsSync(path.join(bin, os, arch)),
            `${platform} ${arch}: no ${os}/${arch} binary`,
          ).toBe(true);
        }
      }
    }
  });

  it('keeps `files` at the top level only', () => {
    // A platform-level `files` turns the top-level one into a second file set, and electron-builder
    // 26 then starts the first from `**/*`: the whole project folder would ship.
    for (const platform of ['linux', 'win', 'mac'] as const) {
      expect(config[platform]?.files, `${platform}.files`).toBeUndefined();
    }
  });

  describe('what it packs is what electron-vite builds', () => {
    let vite: ElectronViteConfig;
    beforeAll(async () => {
      vite = await electronViteConfig();
    });

    it("package.json's main is the main build's entry for electron/main/index.ts", () => {
      const build = vite.main?.build ?? {};
      expect(build.outDir ?? 'out/main').toBe('out/main');
      const main = entries(build.lib?.entry);
      const stem = path.posix.basename(pkg.main, '.js');
      expect(pkg.type).toBe('module'); // so the ESM main bundle is index.js, not index.mjs
      expect(pkg.main).toBe(`out/main/${stem}.js`);
      expect(main.get(stem) && path.resolve(REPO, main.get(stem)!)).toBe(
        repoPath('electron', 'main', 'index.ts'),
      );
    });

    it('the preload and renderer are where electron/main loads them from', () => {
      const preload = vite.preload?.build ?? {};
      expect(preload.outDir ?? 'out/preload').toBe('out/preload');
      expect(preload.lib?.formats).toEqual(['cjs']); // a sandboxed preload must be CommonJS
      expect([...entries(preload.lib?.entry).keys()]).toEqual(['index']);
      expect(vite.renderer?.build?.outDir ?? 'out/renderer').toBe('out/renderer');

      const index = fs.readFileSync(repoPath('electron', 'main', 'index.ts'), 'utf8');
      expect(index).toMatch(/path\.join\(outDir, 'preload', 'index\.cjs'\)/);
      // The built page is served from out/renderer by the app's scheme, as index.html.
      const security = fs.readFileSync(repoPath('electron', 'main', 'security.ts'), 'utf8');
      expect(security).toMatch(/path\.join\(outDir, 'renderer'\)/);
      const appProtocol = fs.readFileSync(repoPath('electron', 'main', 'app-protocol.ts'), 'utf8');
      expect(appProtocol).toMatch(
        /APP_PAGE_URL = `\$\{APP_SCHEME\}:\/\/\$\{APP_HOST\}\/index\.html`/,
      );
    });

    it('`files` takes in the three builds and package.json, and no sources', () => {
      for (const file of [
        'out/main/index.js',
        'out/preload/index.cjs',
        'out/renderer/index.html',
        'package.json',
      ]) {
        expect(packed(file), file).toBe(true);
      }
      for (const file of [
        'electron/main/index.ts',
        'renderer/src/App.tsx',
        'tests/unit/packaging.test.ts',
        'resources/demo-model/manifest.json',
        'electron-builder.yml',
        'reports/vitest.json',
      ]) {
        expect(packed(file), file).toBe(false);
      }
    });

    it('every file of the current build would be packed (where out/ is built)', () => {
      const out = repoPath('out');
      if (!fs.existsSync(out)) return; // CI runs vitest before building
      const built = fs
        .readdirSync(out, { recursive: true, withFileTypes: true })
        .filter((entry) => entry.isFile())
        .map((entry) => posix(path.join(entry.parentPath, entry.name)));
      expect(built.length).toBeGreaterThan(0);
      for (const file of built) expect(packed(file), file).toBe(true);
    });
  });

  describe('native modules', () => {
    let natives: string[];
    let files: string[];
    beforeAll(() => {
      files = productionPackages().flatMap(packageFiles).map(posix);
      natives = files.filter((file) => NATIVE.test(file));
    });

    it('are rebuilt for Electron when packaging, never by npm ci (the tests run under Node)', () => {
      expect(config.npmRebuild ?? true).toBe(true);
      expect(config.buildDependenciesFromSource ?? false).toBe(false);
      for (const [name, script] of Object.entries(pkg.scripts ?? {})) {
        if (!/^(pre|post)?install$|^prepare$/.test(name)) continue;
        expect(script, name).not.toMatch(/install-app-deps|electron-rebuild|@electron\/rebuild/);
      }
    });

    it('the addons the app loads are packed', () => {
      const packedNatives = natives.filter(packed);
      const expected = [
        /^node_modules\/better-sqlite3\/build\/Release\/better_sqlite3\.node$/,
        new RegExp(
          `^node_modules/@img/sharp-${process.platform}-${process.arch}/lib/sharp-.*\\.node$`,
        ),
        new RegExp(
          `^node_modules/onnxruntime-node/bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding\\.node$`,
        ),
      ];
      for (const addon of expected) {
        expect(
          packedNatives.some((file) => addon.test(file)),
          String(addon),
        ).toBe(true);
      }
      // Another platform's onnxruntime binaries are left out.
      expect(
        packedNatives.filter(
          (file) => /onnxruntime-node\/bin\//.test(file) && !file.includes(`/${process.platform}/`),
        ),
      ).toEqual([]);
    });

    it('every packed addon and shared library is unpacked from the asar', () => {
      const unpack = asList(config.asarUnpack).map(matcher);
      const missing = natives.filter(packed).filter((file) => !unpack.some((m) => m.match(file)));
      expect(missing).toEqual([]);
    });

    it('every asarUnpack pattern matches an installed file', () => {
      for (const pattern of asList(config.asarUnpack)) {
        const m = matcher(pattern);
        expect(
          files.some((file) => m.match(file)),
          pattern,
        ).toBe(true);
      }
    });

    it('every exclusion in `files` names an installed production package', () => {
      const installed = new Set(productionPackages().map(posix));
      for (const pattern of filePatterns().filter((p) => p.startsWith('!node_modules/'))) {
        const name = /^!node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(pattern)?.[1];
        expect(installed.has(`node_modules/${name}`), pattern).toBe(true);
      }
    });
  });

  it('ships the demo model where electron/main looks for it', () => {
    const resources = asList(config.extraResources as FileSet[]);
    const demo = resources.find((r) => typeof r === 'object' && r.from === 'resources/demo-model');
    expect(demo, 'extraResources has resources/demo-model').toBeDefined();
    for (const file of [
      'manifest.json',
      'text_encoder.onnx',
      'image_encoder.onnx',
      'tokenizer.json',
      'preprocessor_config.json',
    ]) {
      expect(fs.existsSync(repoPath('resources', 'demo-model', file)), file).toBe(true);
    }
    for (const resource of resources) {
      expect(fs.existsSync(repoPath(resource.from!)), resource.from).toBe(true);
    }
    // electron/main/project.ts: path.join(app.isPackaged ? process.resourcesPath : app.getAppPath(),
    // 'resources', 'demo-model'): the packaged app reads <resources>/<to>, the unpacked one <from>.
    const source = fs.readFileSync(repoPath('electron', 'main', 'project.ts'), 'utf8');
    const at = source.indexOf('process.resourcesPath');
    expect(at, 'electron/main/project.ts names process.resourcesPath').toBeGreaterThan(-1);
    const call = source.slice(source.lastIndexOf('path.join(', at), source.indexOf(');', at));
    const segments = [...call.matchAll(/'([^']+)'/g)].map((m) => m[1]);
    expect(segments.join('/')).toBe(demo!.to);
    expect(call).toMatch(/app\.getAppPath\(\)/);
    expect(demo!.to).toBe(demo!.from);
  });

  it('associates the extension that the app opens and saves projects under', () => {
    const [association, ...others] = asList(config.fileAssociations);
    expect(others).toEqual([]);
    expect(association).toMatchObject({
      ext: 'pickstudio',
      role: 'Editor',
      mimeType: expect.stringMatching(/^application\/x-[a-z0-9.+-]+$/),
      name: expect.any(String),
    });
    const actions = fs.readFileSync(repoPath('electron', 'main', 'actions.ts'), 'utf8');
    const filter = /PROJECT_FILTER\s*=\s*\{[^}]*extensions:\s*\[([^\]]*)\]/.exec(actions);
    expect(filter, 'electron/main/actions.ts has PROJECT_FILTER').not.toBeNull();
    expect([...filter![1]!.matchAll(/'([^']+)'/g)].map((m) => m[1])).toEqual([association!.ext]);
    const index = fs.readFileSync(repoPath('electron', 'main', 'index.ts'), 'utf8');
    expect(index).toContain(`'demo.${String(association!.ext)}'`);
  });

  describe('icons', () => {
    const size = async (file: string) => {
      const meta = await sharp(file).metadata();
      return { format: meta.format, width: meta.width, height: meta.height };
    };

    it('the app icon is a square PNG of at least 512 px (electron-builder makes .icns and .ico of it)', async () => {
      const icon = repoPath(config.icon!);
      const { format, width, height } = await size(icon);
      expect(format).toBe('png');
      expect(width).toBe(height);
      expect(width).toBeGreaterThanOrEqual(512);
      for (const platform of ['win', 'mac'] as const) {
        expect(config[platform]?.icon ?? config.icon, platform).toBe(config.icon);
      }
    });

    it('the Linux icon set has one PNG per size, each as big as its name says', async () => {
      const dir = repoPath(config.linux!.icon!);
      const names = fs.readdirSync(dir).sort();
      expect(names.length).toBeGreaterThan(0);
      const sizes: number[] = [];
      for (const name of names) {
        const match = /^(\d+)x(\d+)\.png$/.exec(name);
        expect(match, name).not.toBeNull();
        const { format, width, height } = await size(path.join(dir, name));
        expect({ format, width, height }, name).toEqual({
          format: 'png',
          width: Number(match![1]),
          height: Number(match![2]),
        });
        sizes.push(width!);
      }
      expect(sizes).toEqual(expect.arrayContaining([16, 32, 48, 64, 128, 256, 512]));
    });
  });

  describe('fuses (Electron security checklist, item 19)', () => {
    // Each one the configuration must set, and to what: removing one, or turning it back, fails.
    const REQUIRED: Record<string, boolean> = {
      runAsNode: false,
      enableNodeOptionsEnvironmentVariable: false,
      enableNodeCliInspectArguments: false,
      enableEmbeddedAsarIntegrityValidation: true,
      onlyLoadAppFromAsar: true,
      enableCookieEncryption: true,
      // The page is not loaded from file:// (electron/main/app-protocol.ts).
      grantFileProtocolExtraPrivileges: false,
    };

    for (const [fuse, value] of Object.entries(REQUIRED)) {
      it(`sets ${fuse}: ${value}`, () => {
        const fuses = (config.electronFuses ?? {}) as Record<string, unknown>;
        expect(fuses[fuse], `electronFuses.${fuse}`).toBe(value);
      });
    }

    it('packs an asar for the integrity fuses to check, and loads the page from no file://', () => {
      // Asar integrity and onlyLoadAppFromAsar mean nothing without an asar.
      expect(config.asar ?? true).not.toBe(false);
      const security = fs.readFileSync(repoPath('electron', 'main', 'security.ts'), 'utf8');
      expect(security).not.toMatch(/loadFile\(|pathToFileURL/);
    });
  });

  it('has what the deb needs: a maintainer with an email, and a homepage', () => {
    // electron-builder refuses to build a deb without them (FpmTarget: "Please specify author
    // 'email' in the application package.json", "Please specify project homepage").
    const author =
      typeof pkg.author === 'object'
        ? pkg.author.email && `${pkg.author.name} <${pkg.author.email}>`
        : pkg.author; // "Name <email> (url)", which npm splits the same way
    const maintainer = config.linux?.maintainer ?? config.deb?.maintainer ?? author;
    expect(maintainer ?? 'none', 'package.json needs "author": { "name", "email" }').toMatch(
      /<[^@\s>]+@[^@\s>]+>/,
    );
    expect(pkg.homepage ?? 'none', 'package.json needs "homepage"').toMatch(/^https:\/\//);
  });
});
