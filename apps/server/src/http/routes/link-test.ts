import { z } from "zod";
import type { App } from "../app.js";

/** The most one upload test may send: enough to time a link, too little to cost the server much. */
export const LINK_TEST_MAX_BYTES = 1024 * 1024;

/**
 * `POST /v1/link-test`: a sink for `ignis doctor`'s upload speed (worker/link-measure.ts). It reads the body (raw
 * bytes, at most {@link LINK_TEST_MAX_BYTES}), keeps nothing, and answers how many bytes came; the client times the
 * request. Public like the download it pairs with (`GET /openapi.json`), so a machine can be checked before it
 * enrolls; limited per address by the `auth` class (20 a minute) and audited like every write, and it answers
 * nothing but a count, so it cannot amplify traffic or tell anyone anything.
 */
export function linkTestRoutes(app: App): void {
  void app.register(async (scope) => {
    // Only this scope takes raw bytes; API routes keep refusing bodies that are not JSON.
    scope.addContentTypeParser(
      "application/octet-stream",
      { parseAs: "buffer", bodyLimit: LINK_TEST_MAX_BYTES },
      (_request, body, done) => done(null, body),
    );
    scope.post(
      "/v1/link-test",
      {
        bodyLimit: LINK_TEST_MAX_BYTES,
        config: { meta: { access: "public", action: "link.upload-test", rateClass: "auth" } },
        schema: {
          summary: "Upload speed test: a sink that counts the bytes it was sent (ignis doctor)",
          description:
            "Send up to 1 MiB as `application/octet-stream`; the answer says how many bytes arrived and nothing " +
            "is kept. The client times the request. 20 a minute per address.",
          tags: ["system"],
          response: { 200: z.object({ bytes: z.number().int().min(0) }) },
        },
      },
      async (request) => ({ bytes: Buffer.isBuffer(request.body) ? request.body.length : 0 }),
    );
  });
}
