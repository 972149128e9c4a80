// The shipgate program: composes one release of the stack from its config.
import { loadStackConfig } from "./config";
import { Directory } from "./platforms/local/directory";

const config = loadStackConfig();

// The local platform's working folder; releases keep their data, backups and records under it.
const workDir = new Directory("workdir", { path: config.workDir, removeOnDelete: "ifEmpty" });

export const platform = config.platform;
export const workDirPath = workDir.absolutePath;
