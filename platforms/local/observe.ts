// What the local platform runs now, read from its files at program time (previews included), so
// the program can pick the idle colour and re-declare the live one unchanged.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import {
  colors,
  isSlotSpec,
  slotSpecOf,
  type Color,
  type ObservedService,
  type SlotSpec,
} from "../../components/platform";
import { servicePaths } from "./layout";

function readJson(path: string): unknown {
  try {
    return JSON.parse(readFileSync(path, "utf8"));
  } catch {
    return undefined;
  }
}

export function observeLocalService(projectDir: string, workDir: string, service: string): ObservedService {
  const paths = servicePaths(join(projectDir, workDir), service);
  const router = readJson(paths.routerState) as { active?: unknown } | undefined;
  const active =
    router && (router.active === "blue" || router.active === "green") ? (router.active as Color) : null;
  const slots: Partial<Record<Color, SlotSpec>> = {};
  for (const color of colors) {
    const spec = readJson(paths.slot(color).specFile);
    if (isSlotSpec(spec)) slots[color] = slotSpecOf(spec);
  }
  const switched = readJson(paths.switchFile) as { switchedAt?: unknown } | undefined;
  const switchedAt = typeof switched?.switchedAt === "string" ? switched.switchedAt : null;
  return { active, slots, switchedAt };
}
