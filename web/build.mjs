// Bundles the web front-ends into dist/ (run by ../scripts/web-build after
// the WebAssembly was built into build/wasm/):
//
//   dist/widget.js          the loader a company page embeds (IIFE, tiny)
//   dist/chat.html          the chat frame page      (served at /chat)
//   dist/console.html       the agent console page   (served at /console)
//   dist/demo.html          the demo company page    (served at /demo)
//   dist/assets/chat.js     the chat frame's script  (ES module)
//   dist/assets/console.js  the console's script     (ES module)
//   dist/assets/*.css       styles
//   dist/assets/confide.wasm  the cores, fetched lazily by both scripts
//
// Every .js, .css and .wasm gets a .gz sibling the server sends to clients
// that accept gzip. Nothing here is committed (see .gitignore).
import * as esbuild from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const assets = join(dist, 'assets');
const wasm = join(here, 'build', 'wasm', 'confide_wasm_bg.wasm');

if (!existsSync(wasm)) {
  console.error(`web build: ${wasm} is missing; run ../scripts/web-build (it builds the WebAssembly first)`);
  process.exit(1);
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(assets, { recursive: true });

const common = {
  bundle: true,
  minify: true,
  legalComments: 'none',
  target: ['es2022', 'chrome111', 'firefox115', 'safari16'],
  logLevel: 'warning',
  charset: 'utf8',
};

await esbuild.build({
  ...common,
  entryPoints: [join(here, 'src', 'widget.ts')],
  outfile: join(dist, 'widget.js'),
  format: 'iife',
});

await esbuild.build({
  ...common,
  entryPoints: {
    chat: join(here, 'src', 'chat', 'main.ts'),
    console: join(here, 'src', 'console', 'main.ts'),
  },
  outdir: assets,
  format: 'esm',
});

for (const page of ['chat.html', 'console.html', 'demo.html']) {
  copyFileSync(join(here, 'src', 'pages', page), join(dist, page));
}
for (const css of readdirSync(join(here, 'src', 'pages')).filter((f) => f.endsWith('.css'))) {
  copyFileSync(join(here, 'src', 'pages', css), join(assets, css));
}
copyFileSync(wasm, join(assets, 'confide.wasm'));

for (const dir of [dist, assets]) {
  for (const f of readdirSync(dir)) {
    if (/\.(js|css|wasm)$/.test(f)) {
      writeFileSync(join(dir, `${f}.gz`), gzipSync(readFileSync(join(dir, f)), { level: 9 }));
    }
  }
}
console.log(`web build: ${dist}`);
