'use strict';
/*
 * Node preload (`node --require`) for the jsii runtime that runs the provider bindings.
 *
 * Loading a prebuilt CDKTF provider, the jsii kernel requires the package's
 * `lib/index.js`, which requires every generated submodule eagerly: for
 * @cdktf/provider-aws 20.x that is ~2,100 files, about 4 s and 400 MB in the Node
 * process, although a stack uses a few dozen of them. This preload answers that one
 * `require` with an object whose properties load their submodule on first access.
 * The jsii kernel finds a class by walking the properties of that object
 * (`exports.lb.Lb`), so only the submodules the stacks use are ever loaded, and the
 * objects, classes and output are exactly those of the eager index.
 *
 * Safety: only an index made of nothing but `exports.X = require("./Y");` lines (plus
 * the generated header, comments and `exports.X = ... = void 0;`) is made lazy. Any
 * other line, or any error, loads the real index unchanged, after a warning on stderr.
 *
 * Set by stacks/aws.py through NODE_OPTIONS while it starts the jsii runtime.
 * AI_FLEET_LAZY_INDEX_STATS=FILE appends one line per index made lazy
 * (`index <package> <submodules>`) and per submodule loaded (`load <package> <name>`),
 * for tests.
 */
const Module = require('module');
const fs = require('fs');
const path = require('path');

const INDEX = /[\\/](@cdktf[\\/]provider-[a-z0-9-]+)[\\/]lib[\\/]index\.js$/;
const EXPORT = /^exports\.([A-Za-z_$][\w$]*) = require\("(\.\/[\w.-]+)"\);$/;
const ALLOWED = [
  /^$/,
  /^"use strict";$/,
  /^\/\//, // line comment, including the sourceMappingURL
  /^\/\*(?:(?!\*\/).)*(?:\*\/)?$/, // block comment start, nothing after its end
  /^\*(?:(?!\*\/).)*(?:\*\/)?$/, // block comment body and end (after trimming)
  /^Object\.defineProperty\(exports, "__esModule", \{ value: true \}\);$/,
  /^exports\.[A-Za-z_$][\w$]*( = exports\.[A-Za-z_$][\w$]*)* = void 0;$/,
];
const STATS = process.env.AI_FLEET_LAZY_INDEX_STATS;
const cache = new Map();

function stat(line) {
  if (STATS) {
    fs.appendFileSync(STATS, line + '\n');
  }
}

/** Parse a generated index; return [[exportName, relativeSpecifier], ...] or throw. */
function parseIndex(text) {
  const entries = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    const m = EXPORT.exec(line);
    if (m) {
      entries.push([m[1], m[2]]);
    } else if (!ALLOWED.some((re) => re.test(line))) {
      throw new Error(`unexpected statement ${JSON.stringify(line.slice(0, 80))}`);
    }
  }
  if (entries.length === 0) {
    throw new Error('no submodule exports found');
  }
  return entries;
}

function lazyIndex(file, pkg) {
  const entries = parseIndex(fs.readFileSync(file, 'utf8'));
  const requireFromIndex = Module.createRequire(file);
  const exports = {};
  Object.defineProperty(exports, '__esModule', { value: true });
  for (const [name, specifier] of entries) {
    Object.defineProperty(exports, name, {
      configurable: true,
      enumerable: true,
      get() {
        const value = requireFromIndex(specifier);
        Object.defineProperty(exports, name, { value, enumerable: true, configurable: false, writable: false });
        stat(`load ${pkg} ${name}`);
        return value;
      },
    });
  }
  stat(`index ${pkg} ${entries.length}`);
  return exports;
}

const originalLoad = Module._load;
if (typeof originalLoad === 'function') {
  Module._load = function loadWithLazyProviderIndex(request, parent, isMain) {
    const match = typeof request === 'string' && path.isAbsolute(request) ? INDEX.exec(request) : null;
    if (match) {
      if (cache.has(request)) {
        return cache.get(request);
      }
      try {
        const exports = lazyIndex(request, match[1].replace(/\\/g, '/'));
        cache.set(request, exports);
        return exports;
      } catch (err) {
        process.stderr.write(
          `warning: lazy provider index not used for ${request} (${err.message}); loading every submodule\n`,
        );
      }
    }
    return originalLoad.apply(this, arguments);
  };
}
