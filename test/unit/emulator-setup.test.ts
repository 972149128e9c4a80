// The emulator tests' set-up stops, saying how to install moto_server, when it is not on PATH: the
// aws tests never skip because the emulator is missing.
import { afterEach, describe, expect, it } from "vitest";
import type { TestProject } from "vitest/node";
import setup from "../emulator/moto-setup";

const path = process.env["PATH"];

describe("the emulator set-up", () => {
  afterEach(() => {
    process.env["PATH"] = path;
  });

  it("stops with the install command when moto_server is not on PATH", async () => {
    process.env["PATH"] = "/nonexistent";
    const provided: string[] = [];
    const project = { provide: (key: string) => provided.push(key) } as unknown as TestProject;
    await expect(setup(project)).rejects.toThrow(
      "moto_server is not on PATH; the aws platform's step modules are tested against it. Install it with " +
        "`pip install 'moto[server]==5.2.1'` (Python 3.9+), make sure it is on PATH, and run the tests again.",
    );
    expect(provided).toEqual([]);
  });
});
