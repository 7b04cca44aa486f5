// Compiles test files ahead of the run (the suite's time, docs/testing.md "Keeping the suite
// fast"): through tsx every test file's process compiled and resolved its module graph (a few
// hundred .ts files) again, about a second of CPU per file before its first test. Here esbuild
// (the compiler tsx itself uses, with the same tsconfig) bundles every test file once per run;
// `splitting` puts the src/ modules several files share in shared chunks, so each file's
// process loads only what it imports. npm packages stay imports, resolved by Node from
// node_modules exactly as under tsx (native addons, packages reading their own files).
//
// What a compiled file must still see as under tsx:
// - `import.meta.url`, `.dirname` and `.filename` are each module's own .ts file (REPO in
//   test/helpers.ts, fixtures beside a test, ../shared, a child's "am I the main module"
//   check), so each .ts file is rewritten with those three defined as its own path first.
// - Failures point at .ts lines: linked source maps, run with --enable-source-maps.
// The output goes to a folder under test-output/ (inside the repository, so node_modules
// resolves), removed by the caller after the run.
import { build, transform } from 'esbuild';
import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const REPO = fileURLToPath(new URL('..', import.meta.url));
const TSCONFIG = join(REPO, 'tsconfig.json');

/** Each .ts module's `import.meta.{url,dirname,filename}` replaced by its source file's own. */
function ownImportMeta() {
  const tsconfigRaw = readFileSync(TSCONFIG, 'utf8');
  return {
    name: 'own-import-meta',
    setup(b) {
      b.onLoad({ filter: /\.ts$/ }, async ({ path }) => {
        const source = await readFile(path, 'utf8');
        if (!source.includes('import.meta')) return { contents: source, loader: 'ts' };
        // A define replaces the expression only (not the same words in a string or comment);
        // the inline source map carries the .ts lines through to the bundle's map.
        const { code } = await transform(source, {
          loader: 'ts',
          format: 'esm',
          target: 'esnext',
          sourcefile: path,
          sourcemap: 'inline',
          tsconfigRaw,
          define: {
            'import.meta.url': JSON.stringify(pathToFileURL(path).href),
            'import.meta.dirname': JSON.stringify(dirname(path)),
            'import.meta.filename': JSON.stringify(path),
          },
        });
        return { contents: code, loader: 'js' };
      });
    },
  };
}

/**
 * Compiles `files` (absolute paths of .test.ts files) into `outDir`, in the order given: Node's
 * runner sorts the files it is given by path, so the n-th file goes to a folder named by n
 * (the 3rd test/x.test.ts -> OUT/o002/test/x.test.mjs). Returns a Map compiled path -> source
 * path (both absolute). Throws on a compile error: the run must fail, not lose files.
 */
export async function compileTests(files, outDir) {
  const entries = files.map((src, n) => ({
    in: src,
    out: join(`o${String(n).padStart(3, '0')}`, relative(REPO, src)).replace(/\.ts$/, ''),
  }));
  await build({
    absWorkingDir: REPO,
    entryPoints: entries,
    outdir: outDir,
    outExtension: { '.js': '.mjs' },
    bundle: true,
    splitting: true,
    chunkNames: 'chunks/[name]-[hash]',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    packages: 'external',
    tsconfig: TSCONFIG, // legacy decorators of the ASN.1 schemas, as tsx runs them
    sourcemap: 'linked',
    sourcesContent: false, // the .ts files are on disk; a smaller map is cheaper to load
    plugins: [ownImportMeta()],
    logLevel: 'warning',
  });
  return new Map(entries.map((e) => [join(outDir, `${e.out}.mjs`), e.in]));
}
