'use strict';
/*
 * Node preload (`node --require`) for the jsii runtime: cdktf records no JavaScript
 * stack traces for tokens.
 *
 * cdktf's `lib/tokens/private/stack-trace.js` captures a full stack trace, with no
 * depth limit, for every token and for every attribute-reference object a resource
 * constructor makes (thousands per stack), only to print it if that token later fails
 * to resolve. Under jsii those frames are the jsii kernel's own, never the Python code
 * that made the token, so they cannot help anyone; capturing and formatting them was
 * about a tenth of the Node process's time per environment. cdktf's own switch,
 * `App(stackTraces: false)`, covers construct metadata only.
 *
 * This preload makes that module's `captureStackTrace` return an empty trace, the value
 * cdktf itself returns when no stack is available. Only a file named
 * `cdktf/lib/tokens/private/stack-trace.js` whose exports are exactly one
 * one-parameter function `captureStackTrace` is changed; anything else (another cdktf
 * layout) is left as it is, after a warning on stderr. Synthesized output does not
 * change (tests/cli/test_cli_paths.py compares it with a run without the preloads).
 *
 * Set by stacks/aws.py through NODE_OPTIONS while it starts the jsii runtime.
 * AI_FLEET_LAZY_INDEX_STATS=FILE appends `traces <file>` when the change is made, for
 * tests.
 */
const Module = require('module');
const fs = require('fs');

const TARGET = /[\\/]cdktf[\\/]lib[\\/]tokens[\\/]private[\\/]stack-trace\.js$/;
const STATS = process.env.AI_FLEET_LAZY_INDEX_STATS;

function noStackTrace(_below) {
  return [];
}

function stubTraces(module, filename) {
  const exports = module.exports;
  const keys = exports && typeof exports === 'object' ? Object.keys(exports) : [];
  if (keys.length !== 1 || keys[0] !== 'captureStackTrace' || typeof exports.captureStackTrace !== 'function'
      || exports.captureStackTrace.length !== 1) {
    process.stderr.write(`warning: cdktf token stack traces kept: unexpected exports in ${filename}\n`);
    return;
  }
  exports.captureStackTrace = noStackTrace;
  if (STATS) {
    fs.appendFileSync(STATS, `traces ${filename}\n`);
  }
}

const loadJs = Module._extensions['.js'];
if (typeof loadJs === 'function') {
  Module._extensions['.js'] = function loadJsWithoutTokenTraces(module, filename) {
    const result = loadJs.apply(this, arguments);
    if (TARGET.test(filename)) {
      stubTraces(module, filename);
    }
    return result;
  };
}
