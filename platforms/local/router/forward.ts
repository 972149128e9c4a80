// Forwarding one HTTP request to an upstream on 127.0.0.1, with node:http and a keep-alive pool.
// Written for the router instead of a general proxy library because the router must decide what to
// do with an answer before the user sees any of it: a failed attempt on the active colour (no
// connection, the connection dropped before an answer, or a server error) can be sent once more to
// the warm colour, which needs the request's body at hand and the failed answer unsent.
import * as http from "node:http";

/** Headers that belong to one connection and are not forwarded (RFC 9110, section 7.6.1). */
const hopByHop = new Set([
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
]);

/** The request's headers for the upstream: hop-by-hop ones dropped, X-Forwarded-* added. */
export function upstreamHeaders(
  req: http.IncomingMessage,
  body: Buffer | undefined,
): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  const named = new Set(
    (req.headers.connection ?? "")
      .split(",")
      .map((name) => name.trim().toLowerCase())
      .filter(Boolean),
  );
  for (const [name, value] of Object.entries(req.headers)) {
    if (value === undefined || hopByHop.has(name) || named.has(name)) continue;
    headers[name] = value;
  }
  const remote = req.socket.remoteAddress ?? "";
  const forwardedFor = req.headers["x-forwarded-for"];
  headers["x-forwarded-for"] = forwardedFor ? `${String(forwardedFor)}, ${remote}` : remote;
  headers["x-forwarded-port"] ??= String(req.socket.localPort ?? "");
  headers["x-forwarded-proto"] ??= "http";
  if (req.headers.host !== undefined) headers["x-forwarded-host"] ??= req.headers.host;
  if (body !== undefined) {
    delete headers["content-length"];
    if (body.length > 0 || req.headers["content-length"] !== undefined)
      headers["content-length"] = body.length;
  }
  return headers;
}

/** The upstream's response headers for the client: hop-by-hop ones dropped. */
export function clientHeaders(upstream: http.IncomingMessage): http.OutgoingHttpHeaders {
  const headers: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(upstream.headers)) {
    if (value === undefined || hopByHop.has(name)) continue;
    headers[name] = value;
  }
  return headers;
}

/** The size of the request's body from its headers: 0 when it has none, "unknown" when chunked. */
export function declaredBodyBytes(req: http.IncomingMessage): number | "unknown" {
  if (req.headers["transfer-encoding"] !== undefined) return "unknown";
  const length = req.headers["content-length"];
  if (length === undefined) return 0;
  const bytes = Number(length);
  return Number.isSafeInteger(bytes) && bytes >= 0 ? bytes : "unknown";
}

/** Reads a request's whole body (already known to be small). */
export async function readBody(req: http.IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

export type Attempt =
  /** The upstream answered; the answer is not yet sent to the client. */
  | { kind: "answered"; upstream: http.IncomingMessage }
  /** No answer: no connection, or the connection dropped before a response. */
  | { kind: "no-answer"; error: NodeJS.ErrnoException };

/**
 * Sends the request to `url` and resolves with the upstream's response (headers received, body
 * unread) or with the error that kept it from answering. `body` is the buffered body, or undefined
 * to stream the client's request through (which then cannot be sent again).
 */
export function attempt(
  req: http.IncomingMessage,
  url: string,
  agent: http.Agent,
  body: Buffer | undefined,
  onRequest: (upstream: http.ClientRequest) => void,
): Promise<Attempt> {
  const port = Number(url.slice(url.lastIndexOf(":") + 1));
  return new Promise((resolve) => {
    const upstream = http.request({
      host: "127.0.0.1",
      port,
      method: req.method,
      path: req.url,
      headers: upstreamHeaders(req, body),
      agent,
    });
    onRequest(upstream);
    upstream.once("response", (response) => resolve({ kind: "answered", upstream: response }));
    upstream.once("error", (error: NodeJS.ErrnoException) => resolve({ kind: "no-answer", error }));
    if (body !== undefined) upstream.end(body);
    else req.pipe(upstream);
  });
}

/** Sends the upstream's answer to the client; a drop mid-body ends the client's connection too. */
export function relay(
  upstream: http.IncomingMessage,
  res: http.ServerResponse,
  extraHeaders: Readonly<Record<string, string>>,
): void {
  res.writeHead(upstream.statusCode ?? 502, upstream.statusMessage, {
    ...clientHeaders(upstream),
    ...extraHeaders,
  });
  upstream.pipe(res);
  upstream.once("error", () => res.destroy());
  upstream.once("aborted", () => res.destroy());
}
