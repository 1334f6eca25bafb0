// Builds the code pad's editor bundle: web/src/codepad.js and its dependencies (the exact
// versions of package-lock.json) into ONE minified ES module, committed at
// src/peerview/web/static/assets/vendor/codepad.js so that `make run` needs no Node.
// Beside it, <outfile>.LICENSE.txt: the licence of every package the bundle contains.
// `node build.mjs [outfile]`: tests/platform/test_codepad_bundle.py builds into a temporary
// file and compares the bytes with the committed one (esbuild's output is deterministic).

import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outfile = resolve(process.argv[2] || resolve(here, "../src/peerview/web/static/assets/vendor/codepad.js"));
const manifest = JSON.parse(readFileSync(resolve(here, "package.json"), "utf8"));
const version = (name) => JSON.parse(readFileSync(resolve(here, "node_modules", name, "package.json"), "utf8")).version;
// The bundled packages named in package.json, with the versions actually installed.
const bundled = Object.keys(manifest.dependencies).filter((name) => name !== "esbuild").sort();
const banner = [
  "// Peerview's code pad editor: built by web/build.mjs from web/src/codepad.js; do not edit.",
  `// ${bundled.map((name) => `${name}@${version(name)}`).join(" ")}`,
  `// Bundled with esbuild@${version("esbuild")}; the licences of the bundled packages in codepad.js.LICENSE.txt.`,
].join("\n");

// style-mod (CodeMirror's styles) writes a <style> element into a document and keeps
// constructed style sheets (document.adoptedStyleSheets, CSSOM) for shadow roots. Peerview's
// Content-Security-Policy (style-src 'self') blocks the element, so the bundle uses the
// constructed sheets for the document too (Chromium 73+, Firefox 101+, Safari 16.4+). Adopted
// sheets come after the page's own in the cascade: app.css outweighs them by specificity.
const STYLE_MOD_TEST = "if (!root.head && root.adoptedStyleSheets && win.CSSStyleSheet) {";
const adoptedStyleSheets = {
  name: "style-mod-adopted-style-sheets",
  setup(builder) {
    builder.onLoad({ filter: /[\\/]style-mod[\\/]src[\\/]style-mod\.js$/ }, (args) => {
      const source = readFileSync(args.path, "utf8");
      if (!source.includes(STYLE_MOD_TEST)) throw new Error(`style-mod changed: ${args.path} no longer has the line this build patches`);
      return { contents: source.replace(STYLE_MOD_TEST, "if (root.adoptedStyleSheets && win.CSSStyleSheet) {"), loader: "js" };
    });
  },
};

const result = await build({
  entryPoints: [resolve(here, "src/codepad.js")],
  outfile,
  bundle: true,
  format: "esm",
  platform: "browser",
  target: ["chrome109", "firefox115", "safari16"],
  minify: true,
  legalComments: "none",
  charset: "utf8",
  banner: { js: banner },
  logLevel: "warning",
  metafile: true,
  plugins: [adoptedStyleSheets],
});

// Every package with a file in the bundle, and its licence text.
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (match) packages.add(match[1]);
}
const licences = [...packages].sort().map((name) => {
  const root = resolve(here, "node_modules", name);
  const file = readdirSync(root).filter((f) => /^licen[cs]e/i.test(f)).sort()[0];
  if (!file) throw new Error(`${name} has no licence file`);
  return `${name}@${version(name)}\n\n${readFileSync(resolve(root, file), "utf8").trim()}\n`;
});
writeFileSync(`${outfile}.LICENSE.txt`,
  `The packages bundled in codepad.js (web/build.mjs) and their licences.\n\n${licences.join("\n---\n\n")}`);
