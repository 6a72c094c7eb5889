// Runs pkg's SEA builder (simple mode: one bundled .js file) with two settings
// its command line does not expose:
//   - nodePath: the Node binary to embed, so nothing is downloaded;
//   - useCodeCache: V8 bytecode for the bundle is stored in the executable,
//     which saves compiling 1.5 MB of JavaScript at every plugin start.
// Must run on the same Node version it packages (pkg's SEA requirement).
//
//   node package-sea.cjs <bundle.js> <node binary> <node version> <output>

const { default: sea } = require('@yao-pkg/pkg/lib-es5/sea');

const [bundle, nodePath, nodeVersion, output] = process.argv.slice(2);
if (!bundle || !nodePath || !nodeVersion || !output) {
  console.error('usage: package-sea.cjs <bundle.js> <node binary> <node version> <output>');
  process.exit(2);
}
if (process.version !== `v${nodeVersion}`) {
  console.error(`package-sea.cjs runs on Node ${process.version} but packages ${nodeVersion}; run it with the packaged Node`);
  process.exit(2);
}

sea(bundle, {
  targets: [{ nodeRange: `node${nodeVersion}`, platform: 'linux', arch: 'x64', output }],
  nodePath,
  seaConfig: { useCodeCache: true },
}).catch((err) => {
  console.error(err);
  process.exit(1);
});
