import { defineConfig } from 'vitest/config';

/**
 * The suite's second pass, with a lab's shared store (test/helpers/shared-store.ts): the files whose leakscopes
 * capture flows run again, every app and CLI also writing PostgreSQL (`--store`), and each file ends by checking
 * that the shared store holds exactly the flows its instances' own stores got. Not run twice: test/lab (on
 * PostgreSQL already), test/store (over both stores already, reader by reader), test/netns (its leakscopes run
 * inside network namespaces, away from the cluster's loopback), test/browser (its flows come through the same
 * capture as the files here, its assertions read the instance's own store through its dashboard; twice the
 * Chromium time for no path the second pass does not already take), test/android (no flows), the detection and
 * unit tests (no store), and the files below, which start no leakscope that stores a flow (they fill a store
 * directly, or test start-up errors).
 */
const SHARED_STORE_PASS = ['integration', 'capture', 'faults', 'lifecycle', 'rules', 'security', 'audit', 'destination', 'trackers'].map((dir) => `test/${dir}/**/*.test.ts`);
const NO_FLOWS = [
  // start-up errors, `scan` and `--help` (its one app stores two flows: test/integration/api.test.ts has more)
  'test/integration/cli.test.ts',
  'test/security/allowlist.test.ts',
  'test/security/dns-rebinding.test.ts',
  'test/capture/conntrack.test.ts',
  'test/destination/lookup.test.ts',
  'test/audit/diff.test.ts',
  'test/rules/decide.test.ts',
  'test/trackers/attribution.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Network and browser tests start servers and Chromium: two cores, so keep parallelism modest.
    maxWorkers: 2,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        // In-process leakscopes log nothing: tests assert on what the logger is called with, not on its output.
        test: { name: 'sqlite', include: ['test/**/*.test.ts'], env: { LEAKSCOPE_LOG: 'silent' } },
      },
      {
        extends: true,
        test: {
          name: 'postgres',
          include: SHARED_STORE_PASS,
          exclude: NO_FLOWS,
          env: { LEAKSCOPE_LOG: 'silent', LEAKSCOPE_TEST_STORE: 'postgres' },
          globalSetup: ['test/helpers/shared-store-cluster.ts'],
          setupFiles: ['test/helpers/shared-store-check.ts'],
        },
      },
    ],
  },
});
