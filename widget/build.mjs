// Minify the widget into widget/dist/ (run by scripts/build_assets.py, so by `make run` and `make test`).
//
// scripts/build_assets.py first writes what ingest/widget_routes.py `source_assets` assembles
// into widget/dist/assembled/ (the dialog's parts wrapped in one IIFE, French typography applied
// to the texts), the very files the service serves when dist/ has not been built. Here:
//
//   loader.js   the loader served at /widget.js (the server fills in the dialog's version)
//   dialog.js   the dialog script
//   dialog.css  the dialog's styles
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { minify } from 'terser';
import { minify as minifyCss } from 'csso';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const read = (name) => readFileSync(join(dist, 'assembled', name), 'utf8');

// Browsers the state's services support: anything with <dialog>, shadow DOM and async functions.
const terserOptions = {
  ecma: 2017,
  compress: { passes: 2 },
  mangle: true,
  format: { comments: false },
};

mkdirSync(dist, { recursive: true });
const loader = await minify(read('loader.js'), terserOptions);
writeFileSync(join(dist, 'loader.js'), loader.code);
const dialog = await minify(read('dialog.js'), { ...terserOptions, toplevel: true });
writeFileSync(join(dist, 'dialog.js'), dialog.code);
writeFileSync(join(dist, 'dialog.css'), minifyCss(read('dialog.css')).css);
console.log(`widget built into ${dist}`);
