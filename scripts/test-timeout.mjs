// Preloaded into every test process by scripts/run-tests.mjs (--import): gives each test that
// declares no timeout, itself or through an enclosing describe, a default one, so a hang fails
// that test fast instead of eating CI time.
//
// Why not `node --test --test-timeout`: under Node 20 that bounds each test *file* as a whole,
// not each test, and is ignored inside the file's own process.
//
// Rules (Node's own inheritance does the rest):
// - test()/it() and the hooks (before, after, beforeEach, afterEach) without a `timeout` get the
//   default, unless an enclosing describe()/suite() declares one: they inherit that instead, so
//   a suite that allows itself 10 minutes keeps working.
// - describe()/suite() never get the default: a suite's timeout bounds all its tests together.
// - t.test() subtests inherit their parent test's timeout (Node's rule).
// Limits: enclosing suites are tracked while their body runs synchronously (an async describe
// body's later tests get the default); `import test from 'node:test'` (the default export) is
// not covered, only the named exports.
import { createRequire, syncBuiltinESMExports } from 'node:module';

const require = createRequire(import.meta.url);
const nodeTest = require('node:test');

const defaultTimeout = Number(process.env.TEST_TIMEOUT_MS ?? 120_000);
if (!Number.isInteger(defaultTimeout) || defaultTimeout <= 0) {
  throw new Error(
    `TEST_TIMEOUT_MS must be a positive integer of milliseconds, not ${process.env.TEST_TIMEOUT_MS}`,
  );
}

/** Timeouts declared by the suites whose bodies are running, outermost first (undefined: none). */
const suiteTimeouts = [];

/** Node's ([name][, options][, fn]) arguments, normalised. */
function parseTestArgs(args) {
  let [name, options, fn] = args;
  if (typeof name === 'function') {
    fn = name;
    name = undefined;
    options = undefined;
  } else if (name !== null && typeof name === 'object') {
    fn = options;
    options = name;
    name = undefined;
  } else if (typeof options === 'function') {
    fn = options;
    options = undefined;
  }
  return { name, options: { ...(options ?? {}) }, fn };
}

function inheritsTimeout() {
  return suiteTimeouts.some((timeout) => timeout !== undefined);
}

function withDefault(options) {
  if (options.timeout === undefined && !inheritsTimeout()) options.timeout = defaultTimeout;
  return options;
}

function wrapTest(original) {
  return function test(...args) {
    const { name, options, fn } = parseTestArgs(args);
    return original(name, withDefault(options), fn);
  };
}

function wrapSuite(original) {
  return function describe(...args) {
    const { name, options, fn } = parseTestArgs(args);
    if (typeof fn !== 'function') return original(name, options, fn);
    return original(name, options, function body(...bodyArgs) {
      suiteTimeouts.push(options.timeout);
      try {
        return fn.apply(this, bodyArgs);
      } finally {
        suiteTimeouts.pop();
      }
    });
  };
}

function wrapHook(original) {
  return function hook(fn, options) {
    return original(fn, withDefault({ ...(options ?? {}) }));
  };
}

/** The wrapper, with the original's variants (skip, todo, only) wrapped the same way. */
function withVariants(original, wrap) {
  const wrapped = wrap(original);
  for (const variant of ['skip', 'todo', 'only']) {
    if (typeof original[variant] === 'function') wrapped[variant] = wrap(original[variant]);
  }
  return wrapped;
}

for (const name of ['test', 'it']) nodeTest[name] = withVariants(nodeTest[name], wrapTest);
for (const name of ['describe', 'suite']) nodeTest[name] = withVariants(nodeTest[name], wrapSuite);
for (const name of ['before', 'after', 'beforeEach', 'afterEach']) nodeTest[name] = wrapHook(nodeTest[name]);
syncBuiltinESMExports();
