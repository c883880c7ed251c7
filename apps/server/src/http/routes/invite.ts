import { isIgnisError } from "@ignis/protocol";
import { z } from "zod";
import type { EmbeddedOidc } from "../../identity/embedded-oidc.js";
import { invitedUserId } from "../../identity/invitations.js";
import { sameOriginPost } from "../../identity/oidc/form-csrf.js";
import { setPasswordWithInvitation } from "../../identity/oidc/local-accounts.js";
import { inviteDonePage, inviteInvalidPage, invitePage } from "../../identity/oidc/pages/invite-pages.js";
import { errorPage } from "../../identity/oidc/pages/sign-in-pages.js";
import { findUserById } from "../../identity/users.js";
import type { App } from "../app.js";
import { auditedWrite } from "../audited-write.js";
import type { AppContext } from "../context.js";
import { FormField, sendPage } from "./html-forms.js";

const InviteParams = z.object({ token: z.string().max(200) });
const InviteForm = z.object({ csrf: FormField, password: FormField, confirmation: FormField });
// Invitation tokens are 32 random bytes in base64url; anything else cannot be one.
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

/** `GET /invite/:token` (the set-password form) and `POST /invite/:token` (sets it, consuming the link). */
export function inviteRoutes(app: App, ctx: AppContext, oidc: EmbeddedOidc): void {
  const renderForm = async (token: string, status: number, error?: string) => {
    const userId = TOKEN_SHAPE.test(token) ? await invitedUserId(ctx.db, token) : undefined;
    if (!userId) return { status: 404, body: inviteInvalidPage() };
    const user = await findUserById(ctx.db, userId);
    return {
      status,
      body: invitePage({
        action: `/invite/${token}`,
        csrf: oidc.csrf.token("invite", token),
        email: user?.email ?? null,
        error,
      }),
    };
  };

  app.get(
    "/invite/:token",
    { config: { meta: { access: "public" } }, schema: { hide: true, params: InviteParams } },
    async (request, reply) => {
      const { status, body } = await renderForm(request.params.token, 200);
      return sendPage(reply, status, body);
    },
  );

  app.post(
    "/invite/:token",
    {
      config: { meta: { access: "public", action: "user.set-password", objectType: "user" } },
      schema: { hide: true, params: InviteParams, body: InviteForm },
    },
    async (request, reply) => {
      const { token } = request.params;
      if (!TOKEN_SHAPE.test(token)) return sendPage(reply, 404, inviteInvalidPage());
      const { csrf, password = "", confirmation = "" } = request.body;
      if (!sameOriginPost(request.headers.origin, ctx.publicUrl) || !oidc.csrf.check("invite", token, csrf)) {
        request.auditDetails = { reason: "csrf" };
        return sendPage(
          reply,
          403,
          errorPage("Request refused", "The form could not be verified. Open the link again."),
        );
      }
      try {
        // Hashing costs real CPU: the same per-IP budget as sign-in attempts bounds it.
        await ctx.rateLimits.consume("auth", `ip:${request.ip}`);
        await auditedWrite(ctx, request, reply, async (trx) => {
          request.auditObjectId = await setPasswordWithInvitation(trx, token, password, confirmation);
        });
        return sendPage(reply, 200, inviteDonePage());
      } catch (error) {
        if (!isIgnisError(error)) throw error;
        request.auditDetails = { reason: error.code };
        if (error.code === "not_found") return sendPage(reply, 404, inviteInvalidPage());
        if (error.code === "validation_failed") {
          const { status, body } = await renderForm(token, 400, error.message);
          return sendPage(reply, status, body);
        }
        if (error.code === "rate_limited")
          return sendPage(reply, 429, errorPage("Too many attempts", "Wait a minute, then try again."));
        throw error;
      }
    },
  );
}
