/**
 * The layers of docs/design.md, checked by `npm run lint:deps` (part of `npm run lint`).
 * Data flows down, never up:
 *
 *   server ← adapters (http, gateway, tools, cli) ← coordination (orchestrator, sagas, 2PC)
 *          ← engine ← store ← core
 *
 * `resilience` and `client` stand beside them and never depend on HTTP or on a store: resilience
 * uses only core, the client only core and resilience. `testing` (the store conformance suite)
 * sits on the store contract. Nothing in src imports the repository's tests, benches, faults or
 * examples.
 */
const layer = {
  core: '^src/core/',
  store: '^src/store/',
  engine: '^src/engine/',
  coordination: '^src/(orchestrator|sagas?|two-phase|2pc)/',
  adapters: '^src/(http|gateway|tools|cli)/',
  server: '^src/server/',
  resilience: '^src/resilience/',
  client: '^src/client/',
  testing: '^src/testing/',
};

/**
 * `from` may import nothing in src except what `allowed` names (and itself); its tests may also
 * use the conformance suite.
 */
function only(name, from, allowed) {
  const comment = `${from} may import only ${allowed.join(', ') || 'itself'} (docs/design.md, "Layers")`;
  const pathNot = [layer[from], ...allowed.map((l) => layer[l])];
  return [
    { name, severity: 'error', comment, from: { path: layer[from], pathNot: TEST }, to: { path: '^src/', pathNot } },
    {
      name,
      severity: 'error',
      comment,
      from: { path: `${layer[from]}.*${TEST}` },
      to: { path: '^src/', pathNot: [...pathNot, layer.testing] },
    },
  ];
}

const TEST = '\\.test\\.ts$';

module.exports = {
  forbidden: [
    ...only('core-is-the-bottom', 'core', []),
    ...only('store-sits-on-core', 'store', ['core']),
    ...only('testing-sits-on-the-store-contract', 'testing', ['core', 'store']),
    ...only('engine-sits-on-store', 'engine', ['core', 'store', 'resilience']),
    ...only('coordination-sits-on-engine', 'coordination', ['core', 'store', 'engine', 'resilience']),
    ...only('adapters-sit-on-coordination', 'adapters', ['core', 'store', 'engine', 'coordination', 'resilience', 'client']),
    ...only('resilience-knows-no-http-nor-store', 'resilience', ['core']),
    ...only('client-knows-no-http-internals', 'client', ['core', 'resilience']),
    {
      name: 'src-stands-alone',
      severity: 'error',
      comment: 'src (tests included) never imports test/, bench/, faults/ or examples/: such tests live in test/',
      from: { path: '^src/' },
      to: { path: '^(test|bench|faults|examples)/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'a cycle between modules hides which one is the lower layer',
      from: { path: '^src/' },
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
