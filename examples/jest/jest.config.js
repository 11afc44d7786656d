// The Jest example suite: a PostgreSQL and a Redis per test, each a fresh
// microVM restored from a snapshot baked once, migrations already applied.
//
// An installed copy names "supermachine/jest/environment" and
// "supermachine/jest/global-setup" and imports from "supermachine/jest";
// inside this repository the example uses the library's source, compiled by
// transform.js.
const src = "<rootDir>/../../src";

export default {
  rootDir: import.meta.dirname,
  testMatch: ["<rootDir>/**/*.test.ts"],
  transform: { "\\.ts$": "<rootDir>/transform.js" },
  moduleNameMapper: { "^supermachine/jest$": `${src}/jest/index.ts` },
  testEnvironment: `${src}/jest/environment.ts`,
  globalSetup: `${src}/jest/global-setup.ts`,
  // The images module declares the services (relative to rootDir).
  testEnvironmentOptions: { supermachine: { images: "./images.ts" } },
  testTimeout: 60_000,
  verbose: true,
};
