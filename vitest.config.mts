import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: "unit",
          include: ["test/unit/**/*.test.ts"],
          environment: "node",
          // Some unit tests start real processes (the CLI, the sample app, the runner bundle): on a
          // machine whose cores are busy they take seconds, not milliseconds. A timeout is a hang
          // detector here, never a speed check.
          testTimeout: 30_000,
          // Set-up hooks too: some build the sample app's five builds before their tests.
          hookTimeout: 30_000,
        },
      },
      {
        test: {
          // The aws platform's step modules against a real AWS API emulator (moto_server), which the
          // global set-up starts and stops. One file at a time: they share the emulator.
          name: "emulator",
          include: ["test/emulator/**/*.test.ts"],
          environment: "node",
          globalSetup: ["test/emulator/moto-setup.ts"],
          fileParallelism: false,
          testTimeout: 120_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          name: "e2e",
          include: ["test/e2e/**/*.test.ts"],
          environment: "node",
          // The real engine: one stack at a time on two cores, minutes not seconds.
          fileParallelism: false,
          testTimeout: 600_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
