// A small HTTP server for the emulator tests, on a port of 127.0.0.1 from SHIPGATE_TEST_HTTP_PORTS
// (45050-45099 by default), standing in for the users' address behind the ALB: moto keeps the
// load balancer's objects but serves no traffic.
import { createServer, type RequestListener, type Server } from "node:http";

export async function listen(handler: RequestListener): Promise<{ url: string; close: () => Promise<void> }> {
  const [first, last] = (process.env["SHIPGATE_TEST_HTTP_PORTS"] ?? "45050-45099").split("-").map(Number);
  for (let port = first ?? 45050; port <= (last ?? 45099); port++) {
    const server: Server = createServer(handler);
    const ok = await new Promise<boolean>((resolve) => {
      server.once("error", () => resolve(false));
      server.listen(port, "127.0.0.1", () => resolve(true));
    });
    if (ok) {
      return {
        url: `http://127.0.0.1:${port}`,
        close: () => new Promise((done) => server.close(() => done())),
      };
    }
  }
  throw new Error("no free port for the test HTTP server (SHIPGATE_TEST_HTTP_PORTS)");
}
