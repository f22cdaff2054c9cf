// Produces the scripts footfall serves from their sources with terser, the version pinned
// in package-lock.json:
//   footfall.js        -> footfall.min.js        (/js/footfall.js, the beacon)
//   footfall-links.js  -> footfall-links.min.js  (/js/footfall-links.js, link tracking
//                                                 the beacon loads when a tag asks for it)
//
//   npm ci && npm run build     rewrite the .min.js files (commit them with the sources)
//   npm ci && npm run check     fail unless each .min.js is exactly what the build
//                               produces now, and it fits its size budget gzipped
//
// scripts/test runs the check, so a source change without a rebuild fails the suite.
import { readFile, writeFile } from 'node:fs/promises';
import { gzipSync, constants } from 'node:zlib';
import { minify } from 'terser';

/** Each script with the size budget of its gzipped form, in bytes. The beacon's 1,600 is
 * the limit; src/web/beacon.rs checks the same numbers. */
const SCRIPTS = [
  { name: 'footfall', budget: 1600 },
  { name: 'footfall-links', budget: 500 },
];

const TERSER_OPTIONS = {
  ecma: 2020,
  compress: { passes: 3 },
  mangle: true,
  format: { comments: false },
};

const check = process.argv.includes('--check');
let failed = false;
for (const { name, budget } of SCRIPTS) {
  const source = await readFile(new URL(`./${name}.js`, import.meta.url), 'utf8');
  const output = new URL(`./${name}.min.js`, import.meta.url);
  const { code } = await minify(source, TERSER_OPTIONS);
  const built = code + '\n';
  const gzipped = gzipSync(built, { level: constants.Z_BEST_COMPRESSION }).length;
  const sizes = `${Buffer.byteLength(built)} bytes minified, ${gzipped} bytes gzipped (budget ${budget})`;
  if (check) {
    const shipped = await readFile(output, 'utf8').catch(() => '');
    if (shipped !== built) {
      console.error(`beacon/${name}.min.js is not the minified beacon/${name}.js; run \`npm run build\` in beacon/ and commit it`);
      failed = true;
    } else if (gzipped > budget) {
      console.error(`${name}.min.js is over its size budget: ${sizes}`);
      failed = true;
    } else {
      console.log(`${name}.min.js is up to date: ${sizes}`);
    }
  } else {
    await writeFile(output, built);
    console.log(`wrote ${name}.min.js: ${sizes}`);
  }
}
process.exit(failed ? 1 : 0);
