import type { FastifyReply } from "fastify";
import { z } from "zod";
import type { App } from "../app.js";

/** Sends a server-rendered page; sign-in pages are never cached. */
export function sendPage(reply: FastifyReply, status: number, body: string) {
  return reply.code(status).header("cache-control", "no-store").type("text/html; charset=utf-8").send(body);
}

/** A form field: a bounded string, absent when the browser sent nothing. */
export const FormField = z.string().max(4096).optional();

/**
 * Lets an (encapsulated) route scope accept HTML form posts. Only the sign-in and invitation pages get this
 * parser, so JSON API routes keep refusing form bodies, which browsers may send cross-site without preflight.
 */
export function acceptHtmlForms(scope: App): void {
  scope.addContentTypeParser(
    "application/x-www-form-urlencoded",
    { parseAs: "string" },
    (_request, body, done) => {
      done(null, Object.fromEntries(new URLSearchParams(String(body))));
    },
  );
}
