/**
 * What the deployment package contains: the handler bundles and, because esbuild cannot bundle
 * a native addon, the binding itself in node_modules with its .node file and shared libraries,
 * plus the two small packages it loads them with. Used by serverless.yml (package.patterns) and
 * by esbuild.config.mjs, which checks that the bundles load from exactly these files.
 */
const RUNTIME_FILES = [
  'dist/**/*.mjs',
  'dist/**/*.mjs.map',
  'node_modules/@confluentinc/kafka-javascript/package.json',
  'node_modules/@confluentinc/kafka-javascript/librdkafka.js',
  'node_modules/@confluentinc/kafka-javascript/lib/**',
  // The addon, and librdkafka next to it (prebuilt binaries) or in build/deps (source builds).
  'node_modules/@confluentinc/kafka-javascript/build/Release/*.node',
  'node_modules/@confluentinc/kafka-javascript/build/Release/*.so*',
  'node_modules/@confluentinc/kafka-javascript/build/deps/*.so.1',
  'node_modules/bindings/**',
  'node_modules/file-uri-to-path/**',
];

/** serverless.yml: `patterns: ${file(./scripts/packaging.cjs):patterns}` */
module.exports.patterns = () => ['!**', ...RUNTIME_FILES];
module.exports.RUNTIME_FILES = RUNTIME_FILES;
