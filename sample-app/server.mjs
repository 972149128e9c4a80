// shipgate's sample app: health, version, a page, and a little persistent data. No dependencies.
// PORT: where to listen (0 picks a free port and prints it); HOST: on which address (127.0.0.1
// unless set); DATA_DIR: where the data lives. Its build (version, schema, simulated fault) comes from release.json next to this file.
import { Buffer } from "node:buffer";
import { existsSync } from "node:fs";
import { createServer } from "node:http";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import process from "node:process";
import { setTimeout as setTimer } from "node:timers";
import { setTimeout as sleep } from "node:timers/promises";
import { URL } from "node:url";
import {
  dataDirFromEnv,
  incompatibility,
  loadMigrations,
  readItems,
  readRelease,
  readSchema,
  writeItems,
} from "./data.mjs";

const maxBodyBytes = 16 * 1024;
const maxSlowMs = 10_000;

const release = await readRelease();
const dataDir = dataDirFromEnv();
const migrations = await loadMigrations();
const portText = process.env.PORT ?? "";
// HOST: the address to listen on. 127.0.0.1 unless told otherwise; a container sets 0.0.0.0, since
// what reaches a pod arrives on the pod's own address.
const host = process.env.HOST ?? "127.0.0.1";
if (!/^[0-9.]+$|^[0-9a-f:]+$/i.test(host)) {
  process.stderr.write(
    `sample-app: HOST is ${JSON.stringify(host)}: expected an IP address such as 127.0.0.1 or 0.0.0.0\n`,
  );
  process.exit(2);
}
const port = Number(portText);
if (portText === "" || !Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`sample-app: PORT is ${JSON.stringify(portText)}: expected a port number (0-65535)\n`);
  process.exit(2);
}

// A fresh data directory starts at this build's schema; one with items but no schema.json is at
// schema 1. `wx`: when both colours start at once on an empty directory, only one of them writes.
await mkdir(dataDir, { recursive: true });
if (!(await readSchema(dataDir)).initialized) {
  const fresh = !existsSync(join(dataDir, "items.json"));
  const own = migrations.find((m) => m.to === release.schema);
  const schema = fresh
    ? { schema: release.schema, minReaderSchema: own?.minReaderSchema ?? release.schema }
    : { schema: 1, minReaderSchema: 1 };
  await writeFile(join(dataDir, "schema.json"), `${JSON.stringify(schema, null, 2)}\n`, { flag: "wx" }).catch(
    (error) => {
      if (error.code !== "EEXIST") throw error;
    },
  );
}

let requestCount = 0;
let writes = Promise.resolve();

function send(res, status, body) {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8", "cache-control": "no-store" });
  res.end(`${JSON.stringify(body)}\n`);
}

class BadRequest extends Error {}

async function readBody(req) {
  const chunks = [];
  let size = 0;
  for await (const chunk of req) {
    size += chunk.length;
    if (size > maxBodyBytes) throw new BadRequest(`body: expected at most ${maxBodyBytes} bytes`);
    chunks.push(chunk);
  }
  try {
    return JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new BadRequest("body: expected a JSON object");
  }
}

/** The data as this build's schema shows it; items written by an older schema lack newer fields. */
function present(item) {
  if (release.schema >= 3)
    return { id: item.id, title: item.title ?? item.name, createdAt: item.createdAt ?? null };
  if (release.schema === 2) return { id: item.id, name: item.name, createdAt: item.createdAt ?? null };
  return { id: item.id, name: item.name };
}

async function usableData() {
  const data = await readSchema(dataDir);
  const problem = incompatibility(release.schema, data, migrations);
  return { data, problem };
}

async function addItem(body) {
  const field = release.schema >= 3 ? "title" : "name";
  const value = body?.[field] ?? (release.schema >= 3 ? body?.name : undefined);
  if (typeof value !== "string" || value.trim() === "" || value.length > 200) {
    throw new BadRequest(`${field}: expected a non-empty string of at most 200 characters`);
  }
  // One write at a time in this process; the file is re-read inside, so the other colour's writes count.
  const added = writes.then(async () => {
    const items = await readItems(dataDir);
    const id = items.reduce((max, item) => Math.max(max, Number(item.id) || 0), 0) + 1;
    const item = { id, [field]: value };
    if (release.schema >= 2) item.createdAt = new Date().toISOString();
    await writeItems(dataDir, [...items, item]);
    return item;
  });
  writes = added.catch(() => undefined);
  return added;
}

async function handle(req, res) {
  requestCount += 1;
  const url = new URL(req.url ?? "/", "http://127.0.0.1");
  const route = `${req.method} ${url.pathname}`;

  if (release.fault === "fails-after-requests" && requestCount > (release.failAfterRequests ?? 40)) {
    send(res, 500, {
      error: `simulated fault: version ${release.version} fails after ${release.failAfterRequests ?? 40} requests`,
    });
    return;
  }

  switch (route) {
    case "GET /health": {
      if (release.fault === "unhealthy") {
        send(res, 500, {
          status: "unhealthy",
          version: release.version,
          reason: "simulated fault: unhealthy",
        });
        return;
      }
      const { problem } = await usableData();
      if (problem !== undefined) {
        send(res, 500, { status: "unhealthy", version: release.version, reason: problem });
        return;
      }
      send(res, 200, { status: "ok", version: release.version });
      return;
    }
    case "GET /version":
      send(res, 200, { version: release.version, schema: release.schema });
      return;
    case "GET /": {
      res.writeHead(200, { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" });
      res.end(
        `<!doctype html>\n<title>sample-app ${release.version}</title>\n` +
          `<h1>sample-app ${release.version}</h1>\n<p>Released by shipgate. Data schema ${release.schema}.</p>\n`,
      );
      return;
    }
    case "GET /items":
    case "POST /items": {
      const { problem } = await usableData();
      if (problem !== undefined) {
        send(res, 500, { error: problem });
        return;
      }
      if (req.method === "GET") {
        send(res, 200, { items: (await readItems(dataDir)).map(present) });
        return;
      }
      send(res, 201, present(await addItem(await readBody(req))));
      return;
    }
    case "GET /slow": {
      // A request that takes a while, so tests and docs can show a switch or a drain waiting for it.
      const ms = Number(url.searchParams.get("ms") ?? "1000");
      if (!Number.isInteger(ms) || ms < 0 || ms > maxSlowMs) {
        send(res, 400, { error: `ms: expected an integer from 0 to ${maxSlowMs}` });
        return;
      }
      await sleep(ms);
      send(res, 200, { version: release.version, sleptMs: ms });
      return;
    }
    default:
      send(res, 404, { error: `no route ${route}` });
  }
}

const server = createServer((req, res) => {
  handle(req, res).catch((error) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    if (error instanceof BadRequest) send(res, 400, { error: error.message });
    else send(res, 500, { error: `sample-app ${release.version}: ${error.message}` });
  });
});

server.listen(port, host, () => {
  const address = server.address();
  process.stdout.write(
    `sample-app ${release.version} (schema ${release.schema}) listening on http://${host}:${address.port} with data in ${dataDir}\n`,
  );
});

function stop(signal) {
  process.stdout.write(`sample-app ${release.version}: ${signal}, finishing in-flight requests\n`);
  server.close(() => process.exit(0));
  server.closeIdleConnections();
  setTimer(() => process.exit(0), 5000).unref();
}
process.once("SIGTERM", () => stop("SIGTERM"));
process.once("SIGINT", () => stop("SIGINT"));
