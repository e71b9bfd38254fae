// Minify the widget into widget/dist/ (run by scripts/build_assets.py, so by `make run` and `make test`).
//
//   loader.js   the loader served at /widget.js (the server fills in the dialog's version)
//   dialog.js   pii.js, texts.js, send.js and dialog.js wrapped in one IIFE
//   dialog.css  the dialog's styles
//
// The same assembly without minification is ingest/widget_routes.py's fallback when
// dist/ has not been built; keep the two in step.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { minify } from 'terser';
import { minify as minifyCss } from 'csso';

const here = dirname(fileURLToPath(import.meta.url));
const src = join(here, 'src');
const dist = join(here, 'dist');
const read = (name) => readFileSync(join(src, name), 'utf8');

// Browsers the state's services support: anything with <dialog>, shadow DOM and async functions.
const terserOptions = {
  ecma: 2017,
  compress: { passes: 2 },
  mangle: true,
  format: { comments: false },
};

// The dialog script's parts, in order (ingest/widget_routes.py DIALOG_PARTS says the same).
const parts = ['pii.js', 'texts.js', 'send.js', 'dialog.js'].filter((name) => existsSync(join(src, name)));
const dialogSource = `(function () {\n'use strict';\n${parts.map(read).join('\n')}\n})();\n`;

mkdirSync(dist, { recursive: true });
const loader = await minify(read('loader.js'), terserOptions);
writeFileSync(join(dist, 'loader.js'), loader.code);
const dialog = await minify(dialogSource, { ...terserOptions, toplevel: true });
writeFileSync(join(dist, 'dialog.js'), dialog.code);
writeFileSync(join(dist, 'dialog.css'), minifyCss(read('dialog.css')).css);
console.log(`widget built into ${dist}`);
