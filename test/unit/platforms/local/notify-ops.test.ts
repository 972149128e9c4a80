import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { NotificationEvent } from "../../../../contract";
import { notify, redactUrl } from "../../../../platforms/local/notify-ops";

let server: Server;
let port: number;
let answers: ((res: ServerResponse) => void)[];
let received: { url: string; headers: IncomingHttpHeaders; body: string }[];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", () => {
      received.push({ url: req.url ?? "", headers: req.headers, body });
      const answer = answers.length > 1 ? answers.shift() : answers[0];
      answer?.(res);
    });
  });
  await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
  port = (server.address() as AddressInfo).port;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((done) => server.close(done));
});

const status = (code: number) => (res: ServerResponse) => {
  res.writeHead(code, { "content-type": "text/plain" });
  res.end(`status ${code}`);
};

let work: string;
let logFile: string;
beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "shipgate-notify-"));
  logFile = join(work, "nested", "folders", "notifications.log");
  answers = [status(200)];
  received = [];
});
afterEach(() => rmSync(work, { recursive: true, force: true }));

const event: NotificationEvent = {
  stage: "starting",
  release: { changeId: "CHG-2041", version: "2.0.0" },
  service: "shop",
  message: "Traffic moved to green (2.0.0).",
  severity: "info",
  audience: ["team", "support"],
  at: "2025-07-01T20:15:00.000Z",
};
const fastRetry = { attempts: 3, baseDelayMs: 5, timeoutMs: 2_000 };
const logLines = () =>
  readFileSync(logFile, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);

describe("redactUrl", () => {
  it("hides credentials and query values, keeps what says where it goes", () => {
    expect(redactUrl("https://bot:t0ken@hooks.example.com/services/release?key=abc&key=def&room=ops#x")).toBe(
      "https://***@hooks.example.com/services/release?key=***&room=***",
    );
    expect(redactUrl("http://127.0.0.1:9000/hook")).toBe("http://127.0.0.1:9000/hook");
    expect(redactUrl("not a url with secret")).toBe("(invalid URL)");
  });
});

describe("notify", () => {
  it("appends one JSON line per event to the log, creating its folders", async () => {
    expect(await notify({ channel: { logFile }, event })).toEqual({ logFile });
    await notify({ channel: { logFile }, event: { ...event, stage: "completed", severity: "warning" } });
    expect(readFileSync(logFile, "utf8")).toBe(
      `${JSON.stringify({ type: "notification", ...event })}\n` +
        `${JSON.stringify({ type: "notification", ...event, stage: "completed", severity: "warning" })}\n`,
    );
  });

  it("keeps every line whole when many events are written at once", async () => {
    await Promise.all(
      Array.from({ length: 40 }, (_, index) =>
        notify({ channel: { logFile }, event: { ...event, message: `event ${index} ${"x".repeat(2_000)}` } }),
      ),
    );
    const lines = logLines();
    expect(lines).toHaveLength(40);
    expect(new Set(lines.map((line) => String(line["message"]).split(" ")[1])).size).toBe(40);
  });

  it("posts the event to the webhook", async () => {
    const result = await notify({
      channel: { logFile, webhookUrl: `http://127.0.0.1:${port}/hook` },
      event,
      retry: fastRetry,
    });
    expect(result).toEqual({
      logFile,
      webhook: { ok: true, url: `http://127.0.0.1:${port}/hook`, status: 200, attempts: 1 },
    });
    expect(received).toHaveLength(1);
    expect(received[0]?.url).toBe("/hook");
    expect(received[0]?.headers["content-type"]).toBe("application/json");
    expect(JSON.parse(received[0]?.body ?? "")).toEqual(event);
    expect(logLines()).toEqual([
      { type: "notification", ...event, webhook: `http://127.0.0.1:${port}/hook` },
    ]);
  });

  it("retries a 5xx with backoff until the webhook accepts", async () => {
    answers = [status(503), status(502), status(204)];
    const result = await notify({
      channel: { logFile, webhookUrl: `http://127.0.0.1:${port}/hook` },
      event,
      retry: fastRetry,
    });
    expect(result.webhook).toEqual({
      ok: true,
      url: `http://127.0.0.1:${port}/hook`,
      status: 204,
      attempts: 3,
    });
    expect(received).toHaveLength(3);
    expect(logLines()).toHaveLength(1);
  });

  it("does not retry a 4xx, and logs the failure without throwing", async () => {
    answers = [status(400)];
    const result = await notify({
      channel: { logFile, webhookUrl: `http://127.0.0.1:${port}/hook` },
      event,
      retry: fastRetry,
    });
    expect(result.webhook).toEqual({
      ok: false,
      url: `http://127.0.0.1:${port}/hook`,
      status: 400,
      attempts: 1,
      error: "the webhook answered HTTP 400",
    });
    expect(received).toHaveLength(1);
    const [, failure] = logLines();
    expect(failure).toEqual({
      type: "webhook-failure",
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      stage: "starting",
      release: { changeId: "CHG-2041", version: "2.0.0" },
      webhook: `http://127.0.0.1:${port}/hook`,
      attempts: 1,
      status: 400,
      error: "the webhook answered HTTP 400",
    });
  });

  it("gives up after the last attempt on a webhook that keeps failing", async () => {
    answers = [status(500)];
    const result = await notify({
      channel: { logFile, webhookUrl: `http://127.0.0.1:${port}/hook` },
      event,
      retry: fastRetry,
    });
    expect(result.webhook).toMatchObject({ ok: false, status: 500, attempts: 3 });
    expect(received).toHaveLength(3);
  });

  it("reports an unreachable webhook after retrying, without throwing", async () => {
    const closed = createServer();
    await new Promise<void>((done) => closed.listen(0, "127.0.0.1", done));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise((done) => closed.close(done));
    const result = await notify({
      channel: { logFile, webhookUrl: `http://127.0.0.1:${deadPort}/hook` },
      event,
      retry: fastRetry,
    });
    expect(result.webhook).toEqual({
      ok: false,
      url: `http://127.0.0.1:${deadPort}/hook`,
      attempts: 3,
      error: "fetch failed (ECONNREFUSED)",
    });
    expect(logLines().map((line) => line["type"])).toEqual(["notification", "webhook-failure"]);
  });

  it("times out a webhook that does not answer", async () => {
    answers = [() => undefined];
    const result = await notify({
      channel: { logFile, webhookUrl: `http://127.0.0.1:${port}/slow` },
      event,
      retry: { attempts: 1, timeoutMs: 50 },
    });
    expect(result.webhook).toMatchObject({ ok: false, attempts: 1, error: "no response within 50 ms" });
  });

  it("sends URL credentials as a header and never writes them or the query to the log", async () => {
    const webhookUrl = `http://release-bot:s3cr3t@127.0.0.1:${port}/hook?token=abc123`;
    answers = [status(403)];
    const result = await notify({ channel: { logFile, webhookUrl }, event, retry: fastRetry });
    expect(received[0]?.url).toBe("/hook?token=abc123");
    expect(received[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from("release-bot:s3cr3t").toString("base64")}`,
    );
    expect(result.webhook?.url).toBe(`http://***@127.0.0.1:${port}/hook?token=***`);
    const log = readFileSync(logFile, "utf8");
    expect(log).not.toContain("s3cr3t");
    expect(log).not.toContain("abc123");
    expect(log).not.toContain("release-bot");
    expect(logLines().map((line) => line["webhook"])).toEqual([
      `http://***@127.0.0.1:${port}/hook?token=***`,
      `http://***@127.0.0.1:${port}/hook?token=***`,
    ]);
  });

  it("reports a webhook URL that is not http(s) without sending anything", async () => {
    const result = await notify({ channel: { logFile, webhookUrl: "ftp://example.com/x" }, event });
    expect(result.webhook).toEqual({
      ok: false,
      url: "ftp://example.com/x",
      attempts: 0,
      error: "the webhook URL is not a valid http(s) URL; fix the channel's webhookUrl",
    });
  });

  it("refuses an invalid event, naming each field", async () => {
    await expect(
      notify({
        channel: { logFile },
        event: { ...event, severity: "loud", audience: [], at: "today" } as unknown as NotificationEvent,
      }),
    ).rejects.toThrow(
      "notify: the event is not valid: severity: expected one of info, warning, critical; " +
        "audience: expected at least one audience; at: expected an ISO timestamp with an offset; fix these fields",
    );
  });
});
