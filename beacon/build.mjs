// Produces footfall.min.js (what footfall serves at /js/footfall.js) from footfall.js
// with terser, the version pinned in package-lock.json.
//
//   npm ci && npm run build     rewrite footfall.min.js (commit it with the source)
//   npm ci && npm run check     fail unless footfall.min.js is exactly what the build
//                               produces now, and it fits the size budget gzipped
//
// scripts/test runs the check, so a source change without a rebuild fails the suite.
import { readFile, writeFile } from 'node:fs/promises';
import { gzipSync, constants } from 'node:zlib';
import { minify } from 'terser';

const SOURCE = new URL('./footfall.js', import.meta.url);
const OUTPUT = new URL('./footfall.min.js', import.meta.url);
/** Size budget of the gzipped script, in bytes (the limit). */
const GZIP_BUDGET = 1500;

const TERSER_OPTIONS = {
  ecma: 2020,
  compress: { passes: 3 },
  mangle: true,
  format: { comments: false },
};

const source = await readFile(SOURCE, 'utf8');
const { code } = await minify(source, TERSER_OPTIONS);
const built = code + '\n';
const gzipped = gzipSync(built, { level: constants.Z_BEST_COMPRESSION }).length;
const sizes = `${Buffer.byteLength(built)} bytes minified, ${gzipped} bytes gzipped (budget ${GZIP_BUDGET})`;

if (process.argv.includes('--check')) {
  const shipped = await readFile(OUTPUT, 'utf8').catch(() => '');
  if (shipped !== built) {
    console.error('beacon/footfall.min.js is not the minified beacon/footfall.js; run `npm run build` in beacon/ and commit it');
    process.exit(1);
  }
  if (gzipped > GZIP_BUDGET) {
    console.error(`footfall.min.js is over its size budget: ${sizes}`);
    process.exit(1);
  }
  console.log(`footfall.min.js is up to date: ${sizes}`);
} else {
  await writeFile(OUTPUT, built);
  console.log(`wrote footfall.min.js: ${sizes}`);
}
