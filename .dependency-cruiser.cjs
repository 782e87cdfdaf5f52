/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'common-imports-nothing-of-ours',
      severity: 'error',
      comment:
        'main/common is the pure contract every process and the renderer share: it imports only main/common (docs/architecture.md "Source layout").',
      from: { path: '^main/common/' },
      to: { path: '^main/', pathNot: '^main/common/' },
    },
    {
      name: 'common-no-node-builtins',
      severity: 'error',
      comment: 'The renderer bundles main/common: Node-only code goes to main/common-node.',
      from: { path: '^main/common/' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'common-node-imports-common-only',
      severity: 'error',
      comment: 'main/common-node (the shared Node-only code) imports main/common and itself only.',
      from: { path: '^main/common-node/' },
      to: { path: '^main/', pathNot: '^main/common(-node)?/' },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'No import cycle in main/ (type-only imports count too): see docs/architecture.md.',
      from: { path: '^main/' },
      to: { circular: true },
    },
  ],
  options: {
    // Packages are leaves (not followed); Node's built-ins stay in the graph for the rules above.
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js'],
    },
  },
};
